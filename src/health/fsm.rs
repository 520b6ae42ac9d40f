//! HAProxy's rise/fall state machine for one server, without I/O.
//!
//! Owns: the health counter and which interval applies next (`inter`,
//! `fastinter`, `downinter`). Must not perform checks nor touch the
//! server's state directly: the task applies the [`Transition`]s.

use std::time::Duration;

/// The three check intervals of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
}

/// A change of the server's operational state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Up,
    Down,
}

/// The health counter: `0..rise` is DOWN, `rise..=rise+fall-1` is UP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fsm {
    health: u32,
    rise: u32,
    fall: u32,
}

impl Fsm {
    /// A freshly started server: UP but "going down" (`health == rise`),
    /// so the very first failed check takes it DOWN, like HAProxy 2.6
    /// (`show stat` says `UP 1/3` before the first check).
    pub fn new(rise: u32, fall: u32) -> Self {
        let rise = rise.max(1);
        Fsm {
            health: rise,
            rise,
            fall: fall.max(1),
        }
    }

    pub fn health(&self) -> u32 {
        self.health
    }

    pub fn rise(&self) -> u32 {
        self.rise
    }

    pub fn fall(&self) -> u32 {
        self.fall
    }

    pub fn is_up(&self) -> bool {
        self.health >= self.rise
    }

    fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// Applies one check outcome; returns the state change it causes.
    pub fn record(&mut self, passed: bool) -> Option<Transition> {
        if passed {
            if self.health < self.full() {
                self.health += 1;
                let became_up = self.health == self.rise;
                if self.health >= self.rise {
                    self.health = self.full();
                }
                if became_up {
                    return Some(Transition::Up);
                }
            }
            None
        } else if self.health > self.rise {
            self.health -= 1;
            None
        } else {
            let was_up = self.is_up();
            self.health = 0;
            was_up.then_some(Transition::Down)
        }
    }

    /// The delay before the next check (HAProxy's `srv_getinter`).
    pub fn interval(&self, iv: &Intervals) -> Duration {
        if self.health == self.full() {
            iv.inter
        } else if self.health == 0 {
            iv.downinter.unwrap_or(iv.inter)
        } else {
            iv.fastinter.unwrap_or(iv.inter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_at_start_goes_down() {
        // Verified on haproxy 2.6.12: `fall 3`, dead port, one check later
        // `show stat` says DOWN / L4CON.
        let mut f = Fsm::new(2, 3);
        assert!(f.is_up());
        assert_eq!(f.record(false), Some(Transition::Down));
        assert_eq!(f.health(), 0);
    }

    #[test]
    fn fall_failures_once_fully_up() {
        let mut f = Fsm::new(2, 3);
        assert_eq!(f.record(true), None);
        assert_eq!(f.health(), 4);
        assert_eq!(f.record(false), None);
        assert_eq!(f.record(false), None);
        assert_eq!(f.record(false), Some(Transition::Down));
        assert_eq!(f.record(false), None);
    }

    #[test]
    fn rise_successes_to_come_back() {
        let mut f = Fsm::new(3, 2);
        f.record(false);
        assert_eq!(f.record(true), None);
        assert_eq!(f.record(true), None);
        assert_eq!(f.record(true), Some(Transition::Up));
        assert_eq!(f.health(), 4);
        // A failure while going up restarts from zero.
        let mut f = Fsm::new(3, 2);
        f.record(false);
        f.record(true);
        assert_eq!(f.record(false), None);
        assert_eq!(f.health(), 0);
    }

    #[test]
    fn intervals_follow_srv_getinter() {
        let iv = Intervals {
            inter: Duration::from_millis(1000),
            fastinter: Some(Duration::from_millis(100)),
            downinter: Some(Duration::from_millis(5000)),
        };
        let mut f = Fsm::new(2, 3);
        // Going down at start: fastinter.
        assert_eq!(f.interval(&iv), Duration::from_millis(100));
        f.record(true);
        assert_eq!(f.interval(&iv), Duration::from_millis(1000));
        f.record(false);
        assert_eq!(f.interval(&iv), Duration::from_millis(100));
        f.record(false);
        f.record(false);
        assert_eq!(f.interval(&iv), Duration::from_millis(5000));
        f.record(true);
        assert_eq!(f.interval(&iv), Duration::from_millis(100));
        let plain = Intervals {
            fastinter: None,
            downinter: None,
            ..iv
        };
        assert_eq!(f.interval(&plain), Duration::from_millis(1000));
    }
}
