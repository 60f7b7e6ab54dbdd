//! Splitting a command line into words: whitespace separates, except inside quotes and
//! brackets, so `deploy T "Aurum Token" [1, 2]` is four words. Quotes around a whole word
//! are taken off; inside brackets they stay (the ABI parser reads them).

use crate::error::{CmdResult, CommandError};

/// The words of `line`.
pub fn split(line: &str) -> CmdResult<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                if depth > 0 {
                    word.push(c);
                }
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
                if depth > 0 {
                    word.push(c);
                }
            }
            (None, '[' | '(') => {
                depth += 1;
                in_word = true;
                word.push(c);
            }
            (None, ']' | ')') if depth > 0 => {
                depth -= 1;
                word.push(c);
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if let Some(q) = quote {
        return Err(CommandError::new(format!("unclosed {q} quote"))
            .next(format!("close the quote with {q}")));
    }
    if depth > 0 {
        return Err(CommandError::new("unclosed bracket").next("close it with ] or )"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Takes `--flag value` out of `words`, returning the value.
pub fn take_option(words: &mut Vec<String>, flag: &str) -> CmdResult<Option<String>> {
    let Some(i) = words.iter().position(|w| w == flag) else { return Ok(None) };
    if i + 1 >= words.len() {
        return Err(CommandError::new(format!("{flag} needs a value")));
    }
    let value = words.remove(i + 1);
    words.remove(i);
    Ok(Some(value))
}

/// Takes a bare `--flag` out of `words`, returning whether it was there.
pub fn take_flag(words: &mut Vec<String>, flag: &str) -> bool {
    let before = words.len();
    words.retain(|w| w != flag);
    words.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_brackets_hold_words_together() {
        assert_eq!(
            split(r#"deploy T "Aurum Token" AUR [1, 2] ("a b", 3)"#).unwrap(),
            vec!["deploy", "T", "Aurum Token", "AUR", "[1, 2]", r#"("a b", 3)"#]
        );
        assert_eq!(split("  getBlockNumber  ").unwrap(), vec!["getBlockNumber"]);
        assert_eq!(split(r#"x """#).unwrap(), vec!["x", ""]);
        assert!(split(r#"x "open"#).is_err());
        assert!(split("x [1, 2").is_err());
        let mut w = vec!["a".to_string(), "--password".into(), "pw".into(), "--sm".into()];
        assert_eq!(take_option(&mut w, "--password").unwrap().as_deref(), Some("pw"));
        assert!(take_flag(&mut w, "--sm"));
        assert_eq!(w, vec!["a"]);
    }
}
