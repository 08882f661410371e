//! Peak resident memory of a server's whole process tree, from /proc.
//!
//! Each sample walks the tree (the root and every descendant, found by
//! parent pid) and sums the kernel's own per-process peak (`VmHWM`), so no
//! spike between samples is missed; with one process that is its exact
//! peak, with an arbiter and workers an upper bound (their peaks may not
//! coincide).
//!
//! Alongside, the largest sampled sum of `RssFile`: the part of the
//! resident memory that is pages of files (the executable's and the shared
//! libraries' code, mapped from the page cache) rather than the process's
//! own (anonymous) memory. It is steady once the code has run, so sampling
//! misses nothing that matters.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Sampling period: the tree may change (workers spawned) while it runs.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// The fields of `/proc/PID/stat` the bench needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub state: char,
    pub ppid: u32,
}

/// Parses `/proc/PID/stat`. The command name is in parentheses and may
/// itself contain spaces and parentheses, so fields are read after the LAST
/// `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find(" (")?;
    let close = text.rfind(')')?;
    let pid = text.get(..open)?.trim().parse().ok()?;
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Stat { pid, state, ppid })
}

/// A `kB` field (`VmHWM:     1234 kB`) of `/proc/PID/status`.
pub fn parse_status_kib(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let mut words = value.split_whitespace();
        let number = words.next()?.parse().ok()?;
        (words.next() == Some("kB")).then_some(number)
    })
}

/// `root` and all its live descendants.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // Processes vanish between read_dir and read: skip them.
            let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some(stat) = parse_stat(&text) {
                children.entry(stat.ppid).or_default().push(stat.pid);
            }
        }
    }
    descendants(root, &children)
}

/// Breadth-first walk of a parent -> children map (cycles cannot loop).
fn descendants(root: u32, children: &HashMap<u32, Vec<u32>>) -> Vec<u32> {
    let mut tree = vec![root];
    let mut next = 0;
    while let Some(&pid) = tree.get(next) {
        next += 1;
        for &child in children.get(&pid).into_iter().flatten() {
            if !tree.contains(&child) {
                tree.push(child);
            }
        }
    }
    tree
}

/// Memory figures of a process tree, KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Peaks {
    /// Sum of every process's peak RSS (`VmHWM`).
    pub rss_kib: u64,
    /// Sum of every process's file-backed resident pages (`RssFile`).
    pub file_kib: u64,
}

impl Peaks {
    fn max(self, other: Peaks) -> Peaks {
        Peaks {
            rss_kib: self.rss_kib.max(other.rss_kib),
            file_kib: self.file_kib.max(other.file_kib),
        }
    }
}

/// One sample of the tree of `root`.
pub fn tree_sample(root: u32) -> Peaks {
    process_tree(root)
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .map(|text| Peaks {
            rss_kib: parse_status_kib(&text, "VmHWM").unwrap_or(0),
            file_kib: parse_status_kib(&text, "RssFile").unwrap_or(0),
        })
        .fold(Peaks::default(), |a, b| Peaks {
            rss_kib: a.rss_kib + b.rss_kib,
            file_kib: a.file_kib + b.file_kib,
        })
}

/// Samples `tree_sample` on a thread until stopped.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Peaks>,
    root: u32,
}

impl Sampler {
    pub fn start(root: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut peak = Peaks::default();
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(tree_sample(root));
                thread::sleep(SAMPLE_EVERY);
            }
            peak
        });
        Sampler { stop, handle, root }
    }

    /// Takes a last sample (the server must still be running) and returns
    /// the peaks.
    pub fn finish(self) -> Peaks {
        let last = tree_sample(self.root);
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default().max(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_tricky_command_names() {
        assert_eq!(
            parse_stat("1234 (python3) S 1 1234 1234 0 -1 4194560 1 0"),
            Some(Stat {
                pid: 1234,
                state: 'S',
                ppid: 1
            })
        );
        // A name with spaces and a ") " inside.
        assert_eq!(
            parse_stat("77 (a) b (c) R 76 77 77 0"),
            Some(Stat {
                pid: 77,
                state: 'R',
                ppid: 76
            })
        );
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("12 (x"), None);
        assert_eq!(parse_stat("12 (x) S"), None);
        assert_eq!(parse_stat("x (y) S 1"), None);
    }

    #[test]
    fn status_fields() {
        let text = "Name:\tpython3\nVmPeak:\t  100 kB\nVmHWM:\t    4076 kB\nVmRSS:\t    4000 kB\n";
        assert_eq!(parse_status_kib(text, "VmHWM"), Some(4076));
        assert_eq!(parse_status_kib(text, "VmRSS"), Some(4000));
        assert_eq!(parse_status_kib(text, "VmSwap"), None);
        // "VmHWMx" is another field, not VmHWM.
        assert_eq!(parse_status_kib("VmHWMx:\t1 kB\n", "VmHWM"), None);
        assert_eq!(parse_status_kib("VmHWM:\t1 MB\n", "VmHWM"), None);
    }

    #[test]
    fn descendants_walks_all_levels_and_survives_cycles() {
        let map: HashMap<u32, Vec<u32>> =
            [(1, vec![2, 3]), (2, vec![4]), (4, vec![1]), (9, vec![10])].into();
        assert_eq!(descendants(1, &map), vec![1, 2, 3, 4]);
        assert_eq!(descendants(5, &map), vec![5]);
    }

    #[test]
    fn this_process_has_a_peak() {
        let me = std::process::id();
        assert!(process_tree(me).contains(&me));
        let peaks = tree_sample(me);
        assert!(peaks.rss_kib > 0);
        // The test binary's own code is file-backed and resident.
        assert!(peaks.file_kib > 0 && peaks.file_kib <= peaks.rss_kib);
    }
}
