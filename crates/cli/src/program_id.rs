//! `--program-id`: the CLI against an xmargin program deployed at another
//! address (built with that id in `declare_id!`). The client crate's
//! builders address the built-in id and derive PDAs under it, so the CLI
//! retargets each instruction after building it: the program id is
//! rewritten, and so is every PDA a builder derived, from the pairs
//! (built-in, target) that [`ProgramTarget`] records as the command derives
//! the same addresses under both ids. With the built-in id nothing changes.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use xmargin::state::{
    ACCOUNT_SEED, BANK_MINT_SEED, BANK_SEED, BANK_VAULT_SEED, GROUP_SEED, INSURANCE_VAULT_SEED, MARKET_SEED,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramTarget {
    pub id: Pubkey,
    /// (built-in address, target address) of every PDA derived so far.
    pairs: Vec<(Pubkey, Pubkey)>,
}

impl Default for ProgramTarget {
    fn default() -> Self {
        ProgramTarget::new(xmargin::ID)
    }
}

impl ProgramTarget {
    pub fn new(id: Pubkey) -> Self {
        ProgramTarget { id, pairs: Vec::new() }
    }

    pub fn is_builtin(&self) -> bool {
        self.id == xmargin::ID
    }

    /// The PDA of `target_seeds` under the target id, remembering that a
    /// builder's `builtin_seeds` under the built-in id stands for it.
    fn pair(&mut self, builtin_seeds: &[&[u8]], target_seeds: &[&[u8]]) -> (Pubkey, Pubkey) {
        let target = Pubkey::find_program_address(target_seeds, &self.id).0;
        if self.is_builtin() {
            return (target, target);
        }
        let builtin = Pubkey::find_program_address(builtin_seeds, &xmargin::ID).0;
        if !self.pairs.contains(&(builtin, target)) {
            self.pairs.push((builtin, target));
        }
        (builtin, target)
    }

    fn same(&mut self, seeds: &[&[u8]]) -> Pubkey {
        self.pair(seeds, seeds).1
    }

    /// A group about to be created and its insurance vault (`create_group`
    /// derives the vault from the group it derived itself).
    pub fn new_group(&mut self, creator: &Pubkey, group_num: u32) -> Pubkey {
        let seeds = [GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes()];
        let (builtin, target) = self.pair(&seeds, &seeds);
        self.pair(&[INSURANCE_VAULT_SEED, builtin.as_ref()], &[INSURANCE_VAULT_SEED, target.as_ref()]);
        target
    }

    pub fn insurance_vault(&mut self, group: &Pubkey) -> Pubkey {
        self.same(&[INSURANCE_VAULT_SEED, group.as_ref()])
    }

    /// The bank and its vault (the vault's seeds hold the bank, so each id
    /// derives it from its own bank).
    pub fn bank(&mut self, group: &Pubkey, token_index: u16) -> (Pubkey, Pubkey) {
        let (builtin, target) = self.pair(
            &[BANK_SEED, group.as_ref(), &token_index.to_le_bytes()],
            &[BANK_SEED, group.as_ref(), &token_index.to_le_bytes()],
        );
        let vault = self.pair(&[BANK_VAULT_SEED, builtin.as_ref()], &[BANK_VAULT_SEED, target.as_ref()]).1;
        (target, vault)
    }

    pub fn mint_marker(&mut self, group: &Pubkey, mint: &Pubkey) -> Pubkey {
        self.same(&[BANK_MINT_SEED, group.as_ref(), mint.as_ref()])
    }

    pub fn margin_account(&mut self, group: &Pubkey, owner: &Pubkey, account_num: u32) -> Pubkey {
        self.same(&[ACCOUNT_SEED, group.as_ref(), owner.as_ref(), &account_num.to_le_bytes()])
    }

    pub fn market(&mut self, group: &Pubkey, market_index: u16) -> Pubkey {
        self.same(&[MARKET_SEED, group.as_ref(), &market_index.to_le_bytes()])
    }

    /// The target's form of an address a builder produced.
    pub fn map_key(&self, key: &Pubkey) -> Pubkey {
        if *key == xmargin::ID {
            return self.id;
        }
        self.pairs.iter().find(|(b, _)| b == key).map_or(*key, |(_, t)| *t)
    }

    /// Rewrites an instruction built for the built-in id (other programs'
    /// instructions are left alone).
    pub fn retarget(&self, mut ix: Instruction) -> Instruction {
        if self.is_builtin() || ix.program_id != xmargin::ID {
            return ix;
        }
        ix.program_id = self.id;
        for meta in &mut ix.accounts {
            meta.pubkey = self.map_key(&meta.pubkey);
        }
        ix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin::instructions::CreateGroupArgs;
    use xmargin_client::instructions as ixs;
    use xmargin_client::pda;

    /// With the built-in id the derivations are the program's own.
    #[test]
    fn the_builtin_id_derives_the_programs_pdas() {
        let mut t = ProgramTarget::default();
        let (creator, mint) = (Pubkey::new_unique(), Pubkey::new_unique());
        let group = t.new_group(&creator, 3);
        assert_eq!(group, pda::group_address(&creator, 3).0);
        assert_eq!(t.insurance_vault(&group), pda::insurance_vault_address(&group).0);
        let (bank, vault) = t.bank(&group, 2);
        assert_eq!((bank, vault), (pda::bank_address(&group, 2).0, pda::bank_vault_address(&bank).0));
        assert_eq!(t.mint_marker(&group, &mint), pda::bank_mint_marker_address(&group, &mint).0);
        assert_eq!(t.margin_account(&group, &creator, 1), pda::margin_account_address(&group, &creator, 1).0);
        assert_eq!(t.market(&group, 4), pda::market_address(&group, 4).0);
        let ix = ixs::set_pause(&group, &creator, 1);
        assert_eq!(t.retarget(ix.clone()), ix, "nothing to rewrite");
    }

    /// Another id: create_group's program id, group and insurance vault are
    /// the other program's; the payer, mint and system accounts stay.
    #[test]
    fn another_id_rewrites_the_program_and_its_pdas() {
        let other = Pubkey::new_unique();
        let mut t = ProgramTarget::new(other);
        let (me, mint) = (Pubkey::new_unique(), Pubkey::new_unique());
        let group = t.new_group(&me, 0);
        let insurance = Pubkey::find_program_address(&[INSURANCE_VAULT_SEED, group.as_ref()], &other).0;
        let args = CreateGroupArgs { group_num: 0, admin: me, loosen_delay_secs: 1 };
        let built = ixs::create_group(&me, &me, &mint, args);
        assert!(built.accounts.iter().any(|m| m.pubkey == pda::group_address(&me, 0).0));
        let ix = t.retarget(built);
        assert_eq!(ix.program_id, other);
        assert_eq!(
            group,
            Pubkey::find_program_address(&[GROUP_SEED, me.as_ref(), &0u32.to_le_bytes()], &other).0
        );
        let keys: Vec<Pubkey> = ix.accounts.iter().map(|m| m.pubkey).collect();
        assert!(
            keys.contains(&group) && keys.contains(&insurance) && keys.contains(&mint) && keys.contains(&me)
        );
        assert!(!keys.contains(&pda::group_address(&me, 0).0), "no built-in PDA left");

        let (bank, vault) = t.bank(&group, 1);
        let built = ixs::add_bank(&group, &me, &me, &mint, &Pubkey::new_unique(), test_add_bank_args(1));
        t.mint_marker(&group, &mint);
        let keys: Vec<Pubkey> = t.retarget(built).accounts.iter().map(|m| m.pubkey).collect();
        assert!(keys.contains(&bank) && keys.contains(&vault));
        assert!(keys.contains(&Pubkey::find_program_address(&[BANK_VAULT_SEED, bank.as_ref()], &other).0));
    }

    fn test_add_bank_args(token_index: u16) -> xmargin::instructions::AddBankArgs {
        let config = crate::bank_config::shipped_entries().remove(0);
        config.add_bank_args(token_index).unwrap()
    }
}
