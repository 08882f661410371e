//! Adds up cargo test's per-binary `test result:` lines into one total.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

/// Reads one `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line.
pub fn parse_result_line(line: &str) -> Option<Totals> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let mut totals = Totals::default();
    for part in rest.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        // Parts such as "finished in 0.01s" carry no count: skip them.
        let (count, label) = match words.as_slice() {
            [.., count, label] => match count.parse::<u64>() {
                Ok(count) => (count, *label),
                Err(_) => continue,
            },
            _ => continue,
        };
        match label {
            "passed" => totals.passed = count,
            "failed" => totals.failed = count,
            "ignored" => totals.ignored = count,
            _ => {}
        }
    }
    Some(totals)
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_result_lines() {
        let t = parse_result_line(
            "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        );
        assert_eq!(
            t,
            Some(Totals {
                passed: 12,
                failed: 0,
                ignored: 2
            })
        );
        let t = parse_result_line("test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured");
        assert_eq!(
            t,
            Some(Totals {
                passed: 3,
                failed: 1,
                ignored: 0
            })
        );
        assert_eq!(parse_result_line("running 3 tests"), None);
    }
}
