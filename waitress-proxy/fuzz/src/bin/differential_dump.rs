//! Differential check against Python waitress, step 1 of 2: decodes every
//! fuzz input in the given corpus directories with the harness's decoder,
//! runs `apply_collecting`, and prints one JSON line per input (settings as
//! resolved, trust decision, environ before and after, warnings, error).
//! Step 2 is `differential.py`, which runs waitress's own middleware on the
//! same environ and compares. See README.md.

use std::collections::BTreeMap;
use std::path::PathBuf;

use waitress_proxy::{ProxyConfig, ProxyHeader, apply_collecting};
use waitress_proxy_fuzz::Input;

/// A JSON string literal; non-ASCII and control chars as \u escapes
/// (values are latin-1, so every char fits one escape).
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

fn json_map(map: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
        .collect();
    format!("{{{}}}", items.join(","))
}

fn json_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| json_str(s)).collect();
    format!("[{}]", items.join(","))
}

fn main() -> std::io::Result<()> {
    for dir in std::env::args().skip(1) {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        paths.sort();
        for path in paths {
            let input = Input::decode(&std::fs::read(&path)?);
            let Ok(config) = ProxyConfig::new(
                input.trusted_proxy.as_deref(),
                input.trusted_proxy_count,
                &input.trusted_proxy_headers,
                input.clear,
                input.log,
            ) else {
                continue;
            };
            let before = input.environ();
            let mut after = before.clone();
            let mut warnings = Vec::new();
            let result = apply_collecting(&config, &mut after, &mut warnings);
            let error = match result {
                Ok(()) => "null".to_owned(),
                Err(err) => {
                    warnings.push(err.log_message());
                    json_str(&err.detail())
                }
            };
            let trusted_headers: Vec<String> = ProxyHeader::ALL
                .iter()
                .filter(|header| config.trusts_header(**header))
                .map(|header| header.setting_name().to_owned())
                .collect();
            println!(
                "{{\"name\":{},\"active\":{},\"trusted\":{},\"count\":{},\"headers\":{},\
                 \"clear\":{},\"log\":{},\"before\":{},\"after\":{},\"warnings\":{},\"error\":{}}}",
                json_str(&path.display().to_string()),
                config.is_active(),
                config.trusts(&input.peer),
                config.trusted_proxy_count(),
                json_list(&trusted_headers),
                input.clear,
                input.log,
                json_map(&before),
                json_map(&after),
                json_list(&warnings),
                error
            );
        }
    }
    Ok(())
}
