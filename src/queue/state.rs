//! A ticket's life cycle (R4.2) as a [`StateMachine`]: its states, the clerk's and the
//! visitor's actions, and from which states each action may start. Every write that performs
//! an action is guarded in SQL by [`guard`], so of two racing requests the one whose ticket
//! has moved on changes nothing and is refused.

use std::sync::LazyLock;

use crate::state::{StateMachine, Transition, go, in_list};

crate::text_enum! {
    /// Where a ticket is in its life (the `tickets.state` column).
    pub enum TicketState {
        /// 等候: in line.
        Waiting = "waiting",
        /// 已叫号: called to a window, the visitor not yet there.
        Called = "called",
        /// 办理中: being served.
        Serving = "serving",
        /// 挂起: on hold.
        Held = "held",
        /// 办结
        Done = "done",
        /// 过号: called and did not come.
        NoShow = "no_show",
        /// 离开: left the queue from the phone.
        Left = "left",
    }
}

crate::text_enum! {
    /// What can be done to a ticket.
    pub enum TicketAction {
        /// A window calls the next visitor in line.
        CallNext = "call_next",
        /// 指呼: a window calls a given number, waiting or held (which resumes it).
        CallNumber = "call_number",
        /// The called visitor is called again.
        Recall = "recall",
        /// The visitor has arrived: service starts.
        Start = "start",
        /// Service done.
        Finish = "finish",
        /// 过号: the visitor did not come.
        NoShow = "no_show",
        /// 首问负责: handed to another window or zone, back in line.
        Transfer = "transfer",
        /// 挂起
        Hold = "hold",
        /// The visitor leaves the queue.
        Leave = "leave",
    }
}

use TicketAction as A;
use TicketState as S;

impl StateMachine for TicketState {
    type Action = TicketAction;
    const TRANSITIONS: &'static [Transition<Self, TicketAction>] = &[
        go(A::CallNext, &[S::Waiting], S::Called),
        go(A::CallNumber, &[S::Waiting, S::Held], S::Called),
        go(A::Recall, &[S::Called], S::Called),
        go(A::Start, &[S::Called], S::Serving),
        go(A::Finish, &[S::Called, S::Serving], S::Done),
        go(A::NoShow, &[S::Called], S::NoShow),
        go(A::Transfer, &[S::Called, S::Serving], S::Waiting),
        go(A::Hold, &[S::Called, S::Serving], S::Held),
        go(A::Leave, &[S::Waiting, S::Held], S::Left),
    ];
}

impl TicketState {
    /// The states of the ticket a window holds now (calling or serving it).
    pub const AT_WINDOW: &'static [TicketState] = &[S::Called, S::Serving];

    /// True while a window holds the ticket.
    pub fn at_window(self) -> bool {
        Self::AT_WINDOW.contains(&self)
    }
}

/// [`StateMachine::guard_on`] for tickets. An action with one source state reads
/// `state = 'waiting'` ([`crate::state::in_list`]), as the partial indexes call-next reads by
/// are written.
pub fn guard_on(column: &str, action: TicketAction) -> String {
    TicketState::guard_on(column, action)
}

/// Guards per action, built once: the actions' statements are on the hot path.
static GUARDS: LazyLock<Vec<String>> =
    LazyLock::new(|| A::ALL.iter().map(|&a| guard_on("state", a)).collect());

/// The condition on `state` that lets a write perform `action` ([`guard_on`]), built once.
pub fn guard(action: TicketAction) -> &'static str {
    let i = A::ALL
        .iter()
        .position(|&a| a == action)
        .expect("every action is in ALL");
    &GUARDS[i]
}

/// `state in ('called', 'serving')`: the ticket a window holds now.
pub fn at_window() -> &'static str {
    static AT: LazyLock<String> = LazyLock::new(|| in_list("state", TicketState::AT_WINDOW));
    &AT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::check_machine;

    #[test]
    fn the_ticket_machine_is_well_formed() {
        check_machine::<TicketState>();
    }

    #[test]
    fn guards_name_the_states_an_action_starts_from() {
        assert_eq!(guard(A::CallNext), "state = 'waiting'");
        assert_eq!(guard_on("t.state", A::Start), "t.state = 'called'");
        assert_eq!(guard(A::CallNumber), "state in ('waiting', 'held')");
        assert_eq!(guard(A::Finish), "state in ('called', 'serving')");
        assert_eq!(guard(A::Leave), "state in ('waiting', 'held')");
        assert_eq!(at_window(), "state in ('called', 'serving')");
        assert_eq!(S::Serving.after(A::Finish), Some(S::Done));
        assert_eq!(S::Done.after(A::Finish), None);
        assert!(!S::Called.allows(A::Leave));
    }

    #[test]
    fn the_states_are_those_the_schema_allows() {
        let schema = include_str!("../../migrations/sqlite/0003_queue.sql");
        let texts: Vec<String> = S::ALL.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let check = format!("state in ({})", texts.join(", "));
        assert!(schema.contains(&check), "{check}");
    }
}
