//! The program's heap: a bump allocator growing *upward* from the start of
//! the heap region over up to [`MAX_HEAP`] bytes, so a transaction that
//! requests a larger heap frame (`ComputeBudget` `RequestHeapFrame`, up to
//! 256 KiB) can use it, while one that does not keeps the default 32 KiB.
//!
//! Why: the runtime's default allocator grows downward from the end of a
//! fixed 32 KiB, so no frame request can enlarge it, and a portfolio-mode
//! account of 16 token + 16 derivative positions with option books needs
//! about 32 KiB to be viewed (`compute_health`) or liquidated (its health
//! cache alone is about 21 KiB). Growing upward, an allocation past the
//! frame the transaction requested touches unmapped memory and the
//! transaction fails (as running out of the default heap does); within it,
//! it succeeds. The Rust clients request the largest frame in every
//! transaction (`xmargin_client::transaction::compute_budget_ixs`: keeper,
//! CLI), the TypeScript client in `computeHealth` (`app/src/view.ts`; a
//! wallet's own risk checks stream its positions and fit 32 KiB).
//!
//! Nothing is freed (as with the default allocator), but the last
//! allocation grows in place: a vector pushed to as it is built costs its
//! final size, not the sum of its doublings.
//!
//! The arithmetic is on plain addresses ([`BumpUp`]), tested on the host
//! over an ordinary buffer.
use core::alloc::Layout;

/// Where the runtime maps the heap.
pub const HEAP_START: usize = 0x3_0000_0000;
/// The largest heap frame a transaction can request.
pub const MAX_HEAP: usize = 256 * 1024;

/// A bump allocator over `[start, start + len)` whose first word holds the
/// next free address (0 before the first allocation: the runtime zeroes the
/// heap).
pub struct BumpUp {
    pub start: usize,
    pub len: usize,
}

impl BumpUp {
    /// The next free address stored at `start`, or the first after it.
    ///
    /// # Safety
    /// `start` must be valid for reads of a `usize`.
    unsafe fn next_free(&self) -> usize {
        // SAFETY: the caller guarantees `start` is readable.
        let pos = unsafe { *(self.start as *const usize) };
        if pos == 0 {
            self.start + core::mem::size_of::<usize>()
        } else {
            pos
        }
    }

    /// A block for `layout` after `from`, or `None` past the end.
    fn place(&self, from: usize, layout: Layout) -> Option<(usize, usize)> {
        let align = layout.align();
        let begin = from.checked_add(align - 1)? & !(align - 1);
        let end = begin.checked_add(layout.size())?;
        (end <= self.start.checked_add(self.len)?).then_some((begin, end))
    }

    /// Allocates `layout` (null if it does not fit).
    ///
    /// # Safety
    /// `[start, start + len)` must be valid for reads and writes and used by
    /// nothing else.
    pub unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let from = unsafe { self.next_free() };
        match self.place(from, layout) {
            Some((begin, end)) => {
                // SAFETY: `start` is writable (caller).
                unsafe { *(self.start as *mut usize) = end };
                begin as *mut u8
            }
            None => core::ptr::null_mut(),
        }
    }

    /// Grows or shrinks the last block in place; another one shrinks in
    /// place and grows by moving.
    ///
    /// # Safety
    /// As [`BumpUp::alloc`]; `ptr` was allocated here with `layout`.
    pub unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        // SAFETY: forwarded from the caller.
        let next = unsafe { self.next_free() };
        let end = at.checked_add(new_size);
        let limit = self.start.checked_add(self.len);
        if at.checked_add(layout.size()) == Some(next) {
            if let (Some(end), Some(limit)) = (end, limit) {
                if end <= limit {
                    // SAFETY: `start` is writable (caller).
                    unsafe { *(self.start as *mut usize) = end };
                    return ptr;
                }
            }
            return core::ptr::null_mut();
        }
        if new_size <= layout.size() {
            // A block shrunk in place (nothing is freed anyway).
            return ptr;
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: forwarded from the caller.
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks are ours and distinct (the new one lies
            // after the old one's end).
            unsafe { core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size)) };
        }
        moved
    }
}

#[cfg(all(target_os = "solana", feature = "custom-heap", not(feature = "no-entrypoint")))]
mod global {
    use super::{BumpUp, HEAP_START, MAX_HEAP};
    use core::alloc::{GlobalAlloc, Layout};

    struct ProgramHeap(BumpUp);

    // SAFETY: the runtime maps the heap at HEAP_START for the requested
    // frame (32 KiB by default); an allocation past the frame faults on
    // first use and fails the transaction. The program is single-threaded.
    unsafe impl GlobalAlloc for ProgramHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: see the impl.
            unsafe { self.0.alloc(layout) }
        }

        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: see the impl.
            unsafe { self.0.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static HEAP: ProgramHeap = ProgramHeap(BumpUp { start: HEAP_START, len: MAX_HEAP });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arena of `len` bytes on the host (8-aligned), zeroed.
    fn arena(len: usize) -> (Vec<u64>, BumpUp) {
        let mut buf = vec![0u64; len / 8];
        let heap = BumpUp { start: buf.as_mut_ptr() as usize, len };
        (buf, heap)
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn allocations_go_upward_aligned_after_the_header_word() {
        let (_buf, heap) = arena(256);
        unsafe {
            let a = heap.alloc(layout(3, 1)) as usize;
            let b = heap.alloc(layout(16, 16)) as usize;
            assert_eq!(a, heap.start + 8, "first block right after the header");
            assert_eq!(b % 16, 0);
            assert!(b >= a + 3 && b < a + 3 + 16);
            assert_eq!(heap.next_free(), b + 16);
        }
    }

    #[test]
    fn an_allocation_past_the_end_is_refused_and_changes_nothing() {
        let (_buf, heap) = arena(64);
        unsafe {
            assert!(!heap.alloc(layout(40, 8)).is_null());
            let before = heap.next_free();
            assert!(heap.alloc(layout(17, 8)).is_null(), "8 + 40 + 17 > 64");
            assert_eq!(heap.next_free(), before);
            assert!(!heap.alloc(layout(16, 8)).is_null(), "8 + 40 + 16 = 64 fits");
        }
    }

    #[test]
    fn the_last_block_grows_in_place_and_another_moves_with_its_bytes() {
        let (_buf, heap) = arena(256);
        unsafe {
            let a = heap.alloc(layout(8, 8));
            *a = 7;
            let grown = heap.realloc(a, layout(8, 8), 32);
            assert_eq!(grown, a, "the last block grows in place");
            assert_eq!(heap.next_free(), a as usize + 32);
            let b = heap.alloc(layout(8, 8));
            let moved = heap.realloc(a, layout(32, 8), 64);
            assert!(moved as usize > b as usize, "not the last: moved after b");
            assert_eq!(*moved, 7, "its bytes come along");
            assert!(heap.realloc(moved, layout(64, 8), 1024).is_null(), "past the end");
        }
    }
}
