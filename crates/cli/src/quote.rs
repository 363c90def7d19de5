//! Maker-signed quotes off-chain: the maker signs the program's quote message
//! (`xmargin::quote::quote_message`) with its wallet, and hands the taker
//! the terms and the signature — as JSON, or as one base58 string
//! (`message ‖ signer ‖ signature`, 241 bytes). The taker submits the Ed25519
//! precompile instruction carrying it, then `take_quote`.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use serde::{Deserialize, Serialize};
use solana_keypair::{Keypair, Signer};
use xmargin::quote::{quote_message, quote_side, QuoteTerms, QUOTE_DOMAIN, QUOTE_MESSAGE_LEN};
use xmargin_client::market_instructions::{self as mixs, MarketKeys};

/// A quote and the maker's signature of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedQuote {
    pub group: Pubkey,
    pub market: Pubkey,
    /// The maker's margin account.
    pub maker: Pubkey,
    /// The wallet that signed: the maker account's owner or delegate.
    pub signer: Pubkey,
    pub terms: QuoteTerms,
    pub signature: [u8; 64],
}

/// The JSON form (`xmargin quote` prints it; `xmargin take` reads it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteJson {
    pub group: String,
    pub market: String,
    pub maker: String,
    pub signer: String,
    /// `"maker-buys"` or `"maker-sells"`.
    pub side: String,
    pub size: u64,
    pub price: u64,
    pub expiry_slot: u64,
    pub nonce: u64,
    /// Base58.
    pub signature: String,
    /// The whole quote as one base58 string (optional on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<String>,
}

fn key(what: &str, s: &str) -> Result<Pubkey, String> {
    s.parse().map_err(|e| format!("quote {what} {s}: {e}"))
}

pub fn side_name(side: u8) -> &'static str {
    if side == quote_side::MAKER_BUYS {
        "maker-buys"
    } else {
        "maker-sells"
    }
}

impl SignedQuote {
    /// `signer` (the maker account's owner or delegate) signs `terms`.
    pub fn sign(signer: &Keypair, group: Pubkey, market: Pubkey, maker: Pubkey, terms: QuoteTerms) -> Self {
        let message = quote_message(&group, &market, &maker, &terms);
        let signature: [u8; 64] = signer.sign_message(&message).into();
        SignedQuote { group, market, maker, signer: signer.pubkey(), terms, signature }
    }

    pub fn message(&self) -> [u8; QUOTE_MESSAGE_LEN] {
        quote_message(&self.group, &self.market, &self.maker, &self.terms)
    }

    /// `message ‖ signer ‖ signature` in base58.
    pub fn encode(&self) -> String {
        let mut bytes = self.message().to_vec();
        bytes.extend_from_slice(self.signer.as_ref());
        bytes.extend_from_slice(&self.signature);
        bs58::encode(bytes).into_string()
    }

    /// Reads [`SignedQuote::encode`]'s form.
    pub fn decode(s: &str) -> Result<Self, String> {
        let bytes = bs58::decode(s.trim()).into_vec().map_err(|e| format!("quote: not base58: {e}"))?;
        if bytes.len() != QUOTE_MESSAGE_LEN + 32 + 64 || &bytes[..16] != QUOTE_DOMAIN {
            return Err(format!("quote: {} bytes, not an xmargin quote", bytes.len()));
        }
        let pk = |at: usize| Pubkey::try_from(&bytes[at..at + 32]).expect("32 bytes");
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let terms = QuoteTerms {
            side: bytes[112],
            size: u64_at(113),
            price: u64_at(121),
            expiry_slot: u64_at(129),
            nonce: u64_at(137),
        };
        let quote = SignedQuote {
            group: pk(16),
            market: pk(48),
            maker: pk(80),
            signer: pk(QUOTE_MESSAGE_LEN),
            terms,
            signature: bytes[QUOTE_MESSAGE_LEN + 32..].try_into().expect("64 bytes"),
        };
        quote.check_side()
    }

    fn check_side(self) -> Result<Self, String> {
        if self.terms.side != quote_side::MAKER_BUYS && self.terms.side != quote_side::MAKER_SELLS {
            return Err(format!(
                "quote: side {} is neither maker-buys (0) nor maker-sells (1)",
                self.terms.side
            ));
        }
        Ok(self)
    }

    pub fn to_json(self) -> QuoteJson {
        let signature = solana_keypair::Signature::from(self.signature).to_string();
        QuoteJson {
            group: self.group.to_string(),
            market: self.market.to_string(),
            maker: self.maker.to_string(),
            signer: self.signer.to_string(),
            side: side_name(self.terms.side).into(),
            size: self.terms.size,
            price: self.terms.price,
            expiry_slot: self.terms.expiry_slot,
            nonce: self.terms.nonce,
            signature,
            encoded: Some(self.encode()),
        }
    }

    pub fn from_json(j: &QuoteJson) -> Result<Self, String> {
        let side = match j.side.as_str() {
            "maker-buys" => quote_side::MAKER_BUYS,
            "maker-sells" => quote_side::MAKER_SELLS,
            other => return Err(format!("quote side {other:?}: \"maker-buys\" or \"maker-sells\"")),
        };
        let signature: solana_keypair::Signature =
            j.signature.parse().map_err(|e| format!("quote signature {}: {e}", j.signature))?;
        let quote = SignedQuote {
            group: key("group", &j.group)?,
            market: key("market", &j.market)?,
            maker: key("maker", &j.maker)?,
            signer: key("signer", &j.signer)?,
            terms: QuoteTerms {
                side,
                size: j.size,
                price: j.price,
                expiry_slot: j.expiry_slot,
                nonce: j.nonce,
            },
            signature: signature.into(),
        };
        if let Some(encoded) = &j.encoded {
            if SignedQuote::decode(encoded)? != quote {
                return Err("quote: the encoded form and the fields differ".into());
            }
        }
        Ok(quote)
    }

    /// A quote given as JSON text, as the base58 form, or as a file holding either.
    pub fn parse(input: &str) -> Result<Self, String> {
        let text = input.trim();
        if text.starts_with('{') {
            let j: QuoteJson = serde_json::from_str(text).map_err(|e| format!("quote JSON: {e}"))?;
            return SignedQuote::from_json(&j);
        }
        if std::path::Path::new(text).is_file() {
            let contents = std::fs::read_to_string(text).map_err(|e| format!("{text}: {e}"))?;
            return SignedQuote::parse(&contents).map_err(|e| format!("{text}: {e}"));
        }
        SignedQuote::decode(text)
    }

    /// The maker buys (`true`) or sells.
    pub fn maker_buys(&self) -> bool {
        self.terms.side == quote_side::MAKER_BUYS
    }

    /// The Ed25519 instruction and `take_quote` for `taker` (its signer
    /// `taker_authority`); `maker_health` / `taker_health`: each side's
    /// health accounts with this market opened.
    pub fn take_instructions(
        &self,
        oracle: Pubkey,
        taker: &Pubkey,
        taker_authority: &Pubkey,
        maker_health: Vec<AccountMeta>,
        taker_health: Vec<AccountMeta>,
    ) -> [Instruction; 2] {
        let (buyer_health, seller_health) =
            if self.maker_buys() { (maker_health, taker_health) } else { (taker_health, maker_health) };
        let keys = MarketKeys { market: self.market, oracle };
        [
            mixs::ed25519_signature(&self.signer, &self.signature, &self.message()),
            mixs::take_quote(
                &self.group,
                &keys,
                &self.maker,
                taker,
                taker_authority,
                self.terms,
                buyer_health,
                seller_health,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote() -> SignedQuote {
        let maker_wallet = Keypair::new_from_array([3; 32]);
        let terms = QuoteTerms {
            side: quote_side::MAKER_SELLS,
            size: 500,
            price: 1_515_000,
            expiry_slot: 99,
            nonce: 7,
        };
        SignedQuote::sign(
            &maker_wallet,
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            terms,
        )
    }

    /// JSON and base58 round-trip; the signature is the wallet's over the
    /// program's message; a tampered field is caught.
    #[test]
    fn quotes_round_trip_and_tampering_is_caught() {
        let q = quote();
        assert_eq!(SignedQuote::decode(&q.encode()).unwrap(), q);
        let json = serde_json::to_string_pretty(&q.to_json()).unwrap();
        assert_eq!(SignedQuote::parse(&json).unwrap(), q);
        assert_eq!(SignedQuote::parse(&q.encode()).unwrap(), q);
        let sig = solana_keypair::Signature::from(q.signature);
        assert!(sig.verify(q.signer.as_ref(), &q.message()));

        let mut j = q.to_json();
        j.price += 1;
        assert!(
            SignedQuote::from_json(&j).unwrap_err().contains("differ"),
            "fields must match the encoded form"
        );
        j.encoded = None;
        let tampered = SignedQuote::from_json(&j).unwrap();
        assert!(!sig.verify(q.signer.as_ref(), &tampered.message()), "the signature no longer matches");
        j.side = "both".into();
        assert!(SignedQuote::from_json(&j).unwrap_err().contains("maker-buys"));
        assert!(SignedQuote::decode("abc").unwrap_err().contains("not an xmargin quote"));
        assert!(SignedQuote::parse("{").unwrap_err().contains("quote JSON"));
    }

    /// On the embedded SVM: the quote fills once, for the taker alone; a
    /// replay is refused by the nonce, a tampered quote by the precompile.
    #[test]
    fn a_signed_quote_fills_once_on_the_embedded_svm() {
        use xmargin_test_support::markets::{health_accounts_full, sol_perp_args};
        use xmargin_test_support::world::{User, World};
        let mut w = World::new();
        w.add_market(sol_perp_args(0)).expect_ok();
        let maker = w.user(10, [10_000_000_000, 0, 0]);
        let taker = w.user(11, [10_000_000_000, 0, 0]);
        w.deposit(&maker, 0, 10_000_000_000).expect_ok();
        w.deposit(&taker, 0, 10_000_000_000).expect_ok();
        let market = w.market_keys(0);
        let terms = QuoteTerms {
            side: quote_side::MAKER_SELLS,
            size: 500,
            price: 1_505_000,
            expiry_slot: w.env.clock().slot + 10,
            nonce: 3,
        };
        let q = SignedQuote::sign(&maker.wallet, w.group.group, market.market, maker.account, terms);
        let q = SignedQuote::parse(&q.encode()).unwrap();
        let take = |w: &mut World, q: &SignedQuote| {
            let health = |u: &User| health_accounts_full(&w.env, &w.group.group, &u.account, &[], &[0]);
            let ixs = q.take_instructions(
                market.oracle,
                &taker.account,
                &taker.wallet.pubkey(),
                health(&maker),
                health(&taker),
            );
            w.env.send(&ixs, &[&taker.wallet])
        };
        let mut tampered = q;
        tampered.terms.price = 1_400_000;
        let refused = take(&mut w, &tampered);
        assert!(refused.result.is_err(), "the precompile refuses a signature over other terms");
        assert_eq!(w.position(&taker, 0).base_contracts, 0);
        take(&mut w, &q).expect_ok();
        assert_eq!((w.position(&taker, 0).base_contracts, w.position(&maker, 0).base_contracts), (500, -500));
        let replay = take(&mut w, &q);
        assert_eq!(replay.result.unwrap_err().anchor_error_name().as_deref(), Some("QuoteNonceUsed"));
        w.assert_all_vaults();
    }

    /// The Ed25519 instruction carries the message `take_quote` rebuilds.
    #[test]
    fn the_ed25519_instruction_carries_the_quote() {
        let q = quote();
        let taker = Pubkey::new_unique();
        let [ed, take] = q.take_instructions(Pubkey::new_unique(), &taker, &taker, vec![], vec![]);
        assert_eq!(ed.program_id, xmargin::quote::ED25519_PROGRAM_ID);
        assert!(ed.data.ends_with(&q.message()));
        assert_eq!(take.accounts[3].pubkey, q.maker);
        assert_eq!(take.accounts[4].pubkey, taker);
    }
}
