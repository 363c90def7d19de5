//! Fixed-point values (`xmargin_risk::Fixed`, an I80F48 in an `i128`) stored as
//! two `u64` limbs: an `i128` field would have alignment 16 on the host but 8 on
//! SBF, so zero-copy layouts would differ between the program and its clients.
use anchor_lang::prelude::*;
use xmargin_risk::Fixed;

// Not `#[zero_copy]`: its IDL impl would clash with the borsh derive's (events
// and instruction data carry it too); the layout is the same either way.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
    AnchorSerialize,
    AnchorDeserialize,
)]
#[repr(C)]
pub struct StoredFixed {
    pub limbs: [u64; 2],
}

const _: () = assert!(core::mem::size_of::<StoredFixed>() == 16);

impl StoredFixed {
    pub const ZERO: StoredFixed = StoredFixed { limbs: [0, 0] };

    pub fn get(&self) -> Fixed {
        Fixed::from_limbs(self.limbs)
    }

    pub fn set(&mut self, value: Fixed) {
        self.limbs = value.to_limbs();
    }
}

impl From<Fixed> for StoredFixed {
    fn from(value: Fixed) -> Self {
        StoredFixed { limbs: value.to_limbs() }
    }
}
