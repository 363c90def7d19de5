//! [`Chain`] over the embedded SVM (LiteSVM running the real program).
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use xmargin_client::accounts::ScanFilter;
use xmargin_test_support::{Env, Keypair};

use crate::chain::{Chain, ChainError, Fetched, Sent};

pub struct SvmChain<'a> {
    pub env: &'a mut Env,
    pub signer: &'a Keypair,
}

impl Chain for SvmChain<'_> {
    fn unix_time(&mut self) -> Result<i64, ChainError> {
        Ok(self.env.unix_time())
    }

    fn program_accounts(&mut self, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        Ok(self
            .env
            .svm
            .get_program_accounts(&xmargin::ID)
            .into_iter()
            .filter(|(_, a)| filter.matches(&a.data))
            .map(|(k, a)| (k, a.data))
            .collect())
    }

    fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError> {
        Ok(keys
            .iter()
            .map(|k| self.env.account(k).map(|a| Fetched { owner: a.owner, data: a.data }))
            .collect())
    }

    fn send(&mut self, instructions: &[Instruction]) -> Result<Sent, ChainError> {
        let out = self.env.send(instructions, &[self.signer]);
        match out.result {
            Ok(()) => Ok(Sent { signature: String::new(), compute_units: Some(out.compute_units) }),
            Err(f) => Err(ChainError(f.to_string())),
        }
    }
}
