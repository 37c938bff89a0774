//! The health counter of one checked server, with HAProxy 2.6's rules: it runs from 0 to
//! `rise + fall - 1`; a server is taken down when failures bring it below `rise` (it then
//! drops to 0) and up when `rise` successes in a row bring it back to `rise` (it then
//! jumps to the top). A checked server starts up at `rise`: its first failed check takes it
//! down, and it needs `fall - 1` successes to reach full health.

use std::time::Duration;

use haproxyrs_config::ir::ServerCheck;

/// A state change decided by one check result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Up,
    Down,
}

#[derive(Clone, Copy, Debug)]
pub struct Health {
    value: u32,
    rise: u32,
    fall: u32,
    up: bool,
}

impl Health {
    pub fn new(rise: u32, fall: u32) -> Health {
        let rise = rise.max(1);
        Health {
            value: rise,
            rise,
            fall: fall.max(1),
            up: true,
        }
    }

    fn top(&self) -> u32 {
        self.rise + self.fall - 1
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The raw counter: 0 (down) to `rise + fall - 1` (full health).
    pub fn value(&self) -> u32 {
        self.value
    }

    /// `(value, top)` for the `status: N/M` of health-check logs.
    pub fn counter(&self) -> (u32, u32) {
        if self.up {
            (self.value + 1 - self.rise, self.fall)
        } else {
            (self.value, self.rise)
        }
    }

    /// Records one check result; returns the transition it causes.
    pub fn record(&mut self, passed: bool) -> Option<Transition> {
        if passed {
            if self.value < self.top() {
                self.value += 1;
                if self.value >= self.rise {
                    self.value = self.top();
                }
            }
            if !self.up && self.value >= self.rise {
                self.up = true;
                return Some(Transition::Up);
            }
        } else if self.value > 0 {
            self.value -= 1;
            if self.value < self.rise {
                self.value = 0;
            }
            if self.up && self.value == 0 {
                self.up = false;
                return Some(Transition::Down);
            }
        }
        None
    }

    /// The delay before the next check: `inter` at full health, `downinter` when down
    /// for good, `fastinter` in between (each defaulting to `inter`).
    pub fn interval(&self, c: &ServerCheck) -> Duration {
        if self.value == self.top() {
            c.inter
        } else if !self.up && self.value == 0 {
            c.downinter.unwrap_or(c.inter)
        } else {
            c.fastinter.unwrap_or(c.inter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_takes_a_fresh_server_down() {
        let mut h = Health::new(2, 3);
        assert_eq!(h.record(false), Some(Transition::Down));
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), Some(Transition::Up));
    }

    #[test]
    fn fall_failures_from_full_health() {
        let mut h = Health::new(2, 3);
        assert_eq!(h.record(true), None); // 2 -> 4 (top)
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), Some(Transition::Down));
        // A success in between resets to full health.
        let mut h = Health::new(2, 3);
        h.record(true);
        h.record(false);
        h.record(true);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), Some(Transition::Down));
    }

    #[test]
    fn intervals_follow_the_health() {
        let ms = Duration::from_millis;
        let c = ServerCheck {
            inter: ms(1000),
            fastinter: Some(ms(100)),
            downinter: Some(ms(5000)),
            rise: 2,
            fall: 3,
            port: None,
            addr: None,
        };
        let mut h = Health::new(2, 3);
        assert_eq!(h.interval(&c), ms(100)); // starting: transitional
        h.record(true);
        assert_eq!(h.interval(&c), ms(1000)); // full health
        h.record(false);
        assert_eq!(h.interval(&c), ms(100)); // going down
        h.record(false);
        h.record(false);
        assert_eq!(h.interval(&c), ms(5000)); // down
        h.record(true);
        assert_eq!(h.interval(&c), ms(100)); // coming back
        let plain = ServerCheck {
            fastinter: None,
            downinter: None,
            ..c
        };
        assert_eq!(h.interval(&plain), ms(1000));
    }

    #[test]
    fn rise_and_fall_of_one() {
        let mut h = Health::new(1, 1);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), Some(Transition::Down));
        assert_eq!(h.record(true), Some(Transition::Up));
    }
}
