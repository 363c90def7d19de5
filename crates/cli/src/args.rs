//! A small flag parser: `--name value` pairs, each given at most once, with
//! every flag no command reads reported (typos fail instead of being ignored).
use std::collections::BTreeMap;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;

#[derive(Debug)]
pub struct Args {
    values: BTreeMap<String, String>,
    used: std::cell::RefCell<Vec<String>>,
}

impl Args {
    pub fn parse(raw: &[String]) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut it = raw.iter();
        while let Some(flag) = it.next() {
            if !flag.starts_with("--") {
                return Err(format!("unexpected argument `{flag}`"));
            }
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            if values.insert(flag.clone(), value.clone()).is_some() {
                return Err(format!("{flag} given twice"));
            }
        }
        Ok(Args { values, used: Default::default() })
    }

    pub fn opt(&self, flag: &str) -> Option<&str> {
        self.used.borrow_mut().push(flag.to_string());
        self.values.get(flag).map(String::as_str)
    }

    pub fn req(&self, flag: &str) -> Result<&str, String> {
        self.opt(flag).ok_or_else(|| format!("{flag} is required"))
    }

    pub fn parsed<T: FromStr>(&self, flag: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        self.opt(flag).map(|v| v.parse::<T>().map_err(|e| format!("{flag} {v}: {e}"))).transpose()
    }

    pub fn parsed_req<T: FromStr>(&self, flag: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.parsed(flag)?.ok_or_else(|| format!("{flag} is required"))
    }

    pub fn pubkey(&self, flag: &str) -> Result<Pubkey, String> {
        let v = self.req(flag)?;
        Pubkey::from_str(v).map_err(|e| format!("{flag} {v}: {e}"))
    }

    /// Fails on flags no command read (typos).
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        match self.values.keys().find(|k| !used.contains(k)) {
            Some(unknown) => Err(format!("unknown flag {unknown} for this command")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        Args::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn values_and_typos() {
        let a = args("--amount 5 --token-index 2").unwrap();
        assert_eq!(a.parsed_req::<u64>("--amount").unwrap(), 5);
        assert!(a.finish().unwrap_err().contains("--token-index"), "unread flags are reported");
        assert_eq!(a.parsed::<u16>("--token-index").unwrap(), Some(2));
        assert!(a.finish().is_ok());
        assert!(args("--amount").unwrap_err().contains("needs a value"));
        assert!(args("--amount 1 --amount 2").unwrap_err().contains("twice"));
        assert!(args("deposit").unwrap_err().contains("unexpected"));
        let a = args("--amount x").unwrap();
        assert!(a.parsed_req::<u64>("--amount").unwrap_err().contains("--amount x"));
        assert!(args("").unwrap().req("--group").unwrap_err().contains("required"));
    }
}
