//! Layer-4 rules: `tcp-request connection|content accept|reject|...` with their conditions.

use super::sample::Condition;
use crate::span::Span;

/// What a `tcp-request` rule does when its condition holds.
#[derive(Clone, Debug)]
pub enum TcpAction {
    Accept,
    Reject,
}

/// One `tcp-request connection|content` rule.
#[derive(Clone, Debug)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Condition>,
    pub span: Span,
}
