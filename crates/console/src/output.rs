//! What a command prints: plain text, a table for lists, pretty JSON for objects; `--json`
//! turns everything into JSON for machines.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};

/// A command's result, rendered by [`Output::render`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Nothing to print (e.g. `switch`).
    None,
    /// A sentence for people; under `--json` it becomes `{"message": …}`.
    Text(String),
    /// A JSON value: pretty-printed (scalars bare).
    Json(Value),
    /// A report for people with its machine form (a deploy, a transaction).
    Report { text: String, json: Value },
    /// Rows under headers: an aligned table; under `--json` an array of objects.
    Table { headers: Vec<String>, rows: Vec<Vec<String>> },
}

impl Output {
    pub fn text(s: impl Into<String>) -> Self {
        Output::Text(s.into())
    }

    pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Self {
        Output::Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows }
    }

    /// The text to print, or None for nothing.
    pub fn render(&self, json_mode: bool) -> Option<String> {
        match self {
            Output::None => None,
            Output::Text(s) if json_mode => Some(json!({ "message": s }).to_string()),
            Output::Text(s) => Some(s.clone()),
            Output::Report { json, .. } if json_mode => Some(json.to_string()),
            Output::Report { text, .. } => Some(text.clone()),
            Output::Json(v) if json_mode => Some(v.to_string()),
            Output::Json(v) => Some(serde_json::to_string_pretty(v).unwrap_or_default()),
            Output::Table { headers, rows } if json_mode => {
                let objects: Vec<Value> = rows
                    .iter()
                    .map(|row| {
                        let fields = headers.iter().cloned().zip(row.iter().map(|c| json!(c)));
                        Value::Object(fields.collect())
                    })
                    .collect();
                Some(Value::Array(objects).to_string())
            }
            Output::Table { rows, .. } if rows.is_empty() => Some("(none)".into()),
            Output::Table { headers, rows } => {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Disabled)
                    .set_header(headers.clone());
                for row in rows {
                    table.add_row(row.clone());
                }
                Some(table.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_for_people_and_machines() {
        let t = Output::table(&["name", "weight"], vec![vec!["node0".into(), "1".into()]]);
        let shown = t.render(false).unwrap();
        assert!(shown.contains("name") && shown.contains("node0"), "{shown}");
        assert_eq!(t.render(true).unwrap(), r#"[{"name":"node0","weight":"1"}]"#);
        assert_eq!(Output::Json(json!(5)).render(false).unwrap(), "5");
        assert_eq!(Output::text("ok").render(true).unwrap(), r#"{"message":"ok"}"#);
        assert_eq!(Output::None.render(false), None);
        assert_eq!(Output::table(&["a"], vec![]).render(false).unwrap(), "(none)");
    }
}
