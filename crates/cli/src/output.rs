//! `--output text|json`. In text mode a command prints as it goes; in JSON
//! mode it prints one document at the end: `{"command", "signature",
//! "signatures": [{"label", "signature"}], …fields}` for transaction
//! commands (`signature`: the last one sent, `null` when none was), or the
//! document a view command (`show`, `quote`) sets.
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default)]
pub struct Output {
    pub format: OutputFormat,
    command: String,
    signatures: Vec<Value>,
    fields: Map<String, Value>,
    document: Option<Value>,
}

impl Output {
    pub fn new(format: OutputFormat, command: &str) -> Output {
        Output { format, command: command.into(), ..Output::default() }
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// A transaction was sent.
    pub fn sent(&mut self, label: &str, signature: &str) {
        match self.format {
            OutputFormat::Text => println!("{label}: {signature}"),
            OutputFormat::Json => self.signatures.push(json!({ "label": label, "signature": signature })),
        }
    }

    /// A fact: printed as `text`, or kept as `key` in the JSON document.
    pub fn note(&mut self, key: &str, value: impl Into<Value>, text: impl std::fmt::Display) {
        match self.format {
            OutputFormat::Text => println!("{text}"),
            OutputFormat::Json => {
                self.fields.insert(key.into(), value.into());
            }
        }
    }

    /// A field of the JSON document only (text mode prints nothing).
    pub fn field(&mut self, key: &str, value: impl Into<Value>) {
        if self.is_json() {
            self.fields.insert(key.into(), value.into());
        }
    }

    /// A view's whole JSON document (JSON mode only; text is printed by the view).
    pub fn set_document(&mut self, document: Value) {
        self.document = Some(document);
    }

    /// The JSON document (`None` in text mode).
    pub fn document(&self) -> Option<Value> {
        if !self.is_json() {
            return None;
        }
        if let Some(d) = &self.document {
            return Some(d.clone());
        }
        let last = self.signatures.last().map_or(Value::Null, |s| s["signature"].clone());
        let mut doc = Map::new();
        doc.insert("command".into(), self.command.clone().into());
        doc.insert("signature".into(), last);
        doc.insert("signatures".into(), Value::Array(self.signatures.clone()));
        doc.extend(self.fields.clone());
        Some(Value::Object(doc))
    }

    /// The JSON document of a command that failed with `error`: what it
    /// sent before the failure stays in it (those transactions landed, so
    /// running the command again would repeat them).
    pub fn failed_document(&self, error: &str) -> Option<Value> {
        let mut doc = self.document()?;
        if let Value::Object(map) = &mut doc {
            map.insert("command".into(), self.command.clone().into());
            map.insert("error".into(), error.into());
        }
        Some(doc)
    }

    /// Prints the JSON document (JSON mode).
    pub fn finish(&self) {
        if let Some(doc) = self.document() {
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON values serialise"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_document_of_a_transaction_command() {
        let mut out = Output::new(OutputFormat::Json, "deposit");
        out.sent("deposit 1.5 of token 1", "5sig");
        out.note("account", "Acc", "unused in JSON");
        let doc: Value =
            serde_json::from_str(&serde_json::to_string(&out.document().unwrap()).unwrap()).unwrap();
        assert_eq!(doc["command"], "deposit");
        assert_eq!(doc["signature"], "5sig");
        assert_eq!(doc["signatures"][0]["label"], "deposit 1.5 of token 1");
        assert_eq!(doc["account"], "Acc");
        assert!(Output::new(OutputFormat::Text, "x").document().is_none());
        let none = Output::new(OutputFormat::Json, "settle-pnl").document().unwrap();
        assert_eq!(none["signature"], Value::Null);
    }

    #[test]
    fn a_failed_command_keeps_what_it_sent() {
        let mut out = Output::new(OutputFormat::Json, "extend-lookup-table");
        out.sent("extend-lookup-table T (part 1)", "5first");
        out.field("table", "T");
        let doc = out.failed_document("extend-lookup-table T (part 2): expired").unwrap();
        assert_eq!(doc["error"], "extend-lookup-table T (part 2): expired");
        assert_eq!(doc["signatures"][0]["signature"], "5first", "the part that landed is reported");
        assert_eq!(
            (doc["command"].as_str(), doc["table"].as_str()),
            (Some("extend-lookup-table"), Some("T"))
        );
        assert!(Output::new(OutputFormat::Text, "x").failed_document("e").is_none());
    }
}
