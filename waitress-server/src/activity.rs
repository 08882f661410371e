//! What an I/O thread knows of the workers, to decide whether to linger
//! for a moment before it sleeps.
//!
//! An I/O thread that parks while a worker runs a short request is woken
//! again a few dozen microseconds later by that request's response. On a
//! virtual machine the wake-up is the expensive part on both sides: the
//! worker's system call to wake a parked thread (about 8% of a Flask
//! worker's time here) and the sleeping vCPU's return. So while a job is
//! in flight and jobs have been short, the I/O thread spins briefly for the
//! next hand-off instead of parking (tokio's `on_thread_park`, which runs
//! before the thread is marked idle: a task scheduled meanwhile is found by
//! the runtime's own last check). Long jobs (an app that sleeps, a slow
//! query) get no lingering: the thread parks as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Jobs longer than this, on average, are not waited for.
const MAX_LINGER: Duration = Duration::from_micros(250);

#[derive(Debug, Default)]
pub struct Activity {
    /// Bumped on every hand-off of output to a connection task.
    handoffs: AtomicU64,
    /// Jobs submitted and not yet finished (or dropped).
    in_flight: AtomicUsize,
    /// Moving average of a job's duration, in nanoseconds; 0 until the
    /// first job finished.
    job_nanos: AtomicU64,
    /// An I/O thread is lingering: the others park (one thread spinning
    /// is enough to take the next hand-off).
    lingering: AtomicBool,
}

/// A job's place in `in_flight`, given back when the job is dropped.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Activity {
    /// A job is handed to the workers; it counts until the token drops.
    pub fn job_submitted(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(self))
    }

    /// A worker finished a job that took `took`.
    pub fn job_finished(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let average = self.job_nanos.load(Ordering::Relaxed);
        // Concurrent updates may lose one sample: an estimate is enough.
        let next = if average == 0 {
            took
        } else {
            average - average / 8 + took / 8
        };
        self.job_nanos.store(next, Ordering::Relaxed);
    }

    /// A worker handed output to a connection task.
    pub fn handed_off(&self) {
        self.handoffs.fetch_add(1, Ordering::Release);
    }

    /// How long an I/O thread about to park should wait for a hand-off:
    /// about two typical jobs, none when no job runs or jobs are long.
    fn linger_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            return None;
        }
        let typical = Duration::from_nanos(self.job_nanos.load(Ordering::Relaxed));
        if typical.is_zero() || typical > MAX_LINGER {
            return None;
        }
        Some((typical * 2).min(MAX_LINGER))
    }

    /// Called by an I/O thread about to park: spins until a worker hands
    /// output over, no job is in flight any more, or the linger is over.
    pub fn linger(&self) {
        let Some(limit) = self.linger_for() else {
            return;
        };
        if self.lingering.swap(true, Ordering::AcqRel) {
            return;
        }
        let seen = self.handoffs.load(Ordering::Acquire);
        let start = Instant::now();
        while self.handoffs.load(Ordering::Acquire) == seen
            && self.in_flight.load(Ordering::Acquire) > 0
            && start.elapsed() < limit
        {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        }
        self.lingering.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_linger_without_a_job_in_flight_or_a_known_job_length() {
        let activity = Arc::new(Activity::default());
        assert_eq!(activity.linger_for(), None, "nothing runs");
        let job = activity.job_submitted();
        assert_eq!(activity.linger_for(), None, "no job finished yet");
        activity.job_finished(Duration::from_micros(40));
        assert_eq!(activity.linger_for(), Some(Duration::from_micros(80)));
        drop(job);
        assert_eq!(activity.linger_for(), None, "the job is done");
    }

    #[test]
    fn long_jobs_are_not_waited_for() {
        let activity = Arc::new(Activity::default());
        let _job = activity.job_submitted();
        activity.job_finished(Duration::from_millis(10));
        assert_eq!(activity.linger_for(), None);
        // Short jobs bring the average down again.
        for _ in 0..100 {
            activity.job_finished(Duration::from_micros(100));
        }
        let linger = activity.linger_for().expect("short jobs again");
        assert!(
            linger >= Duration::from_micros(200) && linger < Duration::from_micros(201),
            "two typical jobs: {linger:?}"
        );
    }
}
