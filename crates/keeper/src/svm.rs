//! [`Chain`] over the embedded SVM (LiteSVM running the real program).
//!
//! Sends as a cluster would take them: v0 with the environment's lookup
//! table (`Env::lookup_table`) when set, and refused before sending when the
//! transaction, paid by the keeper's key, would be over 1,232 bytes or 64
//! accounts, which LiteSVM itself does not check.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use xmargin_client::accounts::ScanFilter;
use xmargin_client::transaction;
use xmargin_test_support::Signer;
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
        let payer = self.signer.pubkey();
        let blockhash = self.env.svm.latest_blockhash();
        let message = transaction::message(&payer, instructions, self.env.lookup_table.as_ref(), blockhash)
            .map_err(|e| ChainError(e.to_string()))?;
        let wire = transaction::check(&message).map_err(|e| ChainError(e.to_string()))?;
        let out = self.env.send(instructions, &[self.signer]);
        match out.result {
            Ok(()) => Ok(Sent {
                signature: String::new(),
                compute_units: Some(out.compute_units),
                wire: Some(wire),
            }),
            Err(f) => Err(ChainError(f.to_string())),
        }
    }
}
