//! One pattern for every record with a life cycle — tickets now, bookings and cases next.
//!
//! * The states are a [`text_enum!`](crate::text_enum) stored in a `state` column.
//! * The actions are a second text enum, and [`StateMachine::TRANSITIONS`] says, as data, from
//!   which states each action may start and where it leads.
//! * The write that performs an action is guarded in SQL by [`StateMachine::guard`]: `update …
//!   set state = 'called' where id = $1 and state in ('waiting', 'held')`. When two requests
//!   race, the one whose row no longer matches updates nothing and is refused, so the database,
//!   not a read made earlier, decides.
//!
//! ```ignore
//! impl StateMachine for TicketState {
//!     type Action = TicketAction;
//!     const TRANSITIONS: &'static [Transition<Self, TicketAction>] = &[
//!         go(TicketAction::Call, &[TicketState::Waiting], TicketState::Called),
//!     ];
//! }
//! let sql = format!("update tickets set state = $1 where id = $2 and {}",
//!     TicketState::guard(TicketAction::Call));
//! ```

use crate::db::TextEnum;

/// An action, the states it may start from, and the state it leads to.
#[derive(Debug)]
pub struct Transition<S: 'static, A: 'static> {
    pub action: A,
    pub from: &'static [S],
    pub to: S,
}

/// A row of a machine's table: `action` moves a record `from` any of these states `to` one.
pub const fn go<S, A>(action: A, from: &'static [S], to: S) -> Transition<S, A> {
    Transition { action, from, to }
}

/// A state enum whose allowed transitions are data.
pub trait StateMachine: TextEnum {
    /// What can be done to a record in this machine.
    type Action: TextEnum;

    /// Every allowed transition; an action missing here is never allowed.
    const TRANSITIONS: &'static [Transition<Self, Self::Action>];

    /// The transition of `action`. Every action has one: a unit test of each machine checks
    /// it ([`check_machine`]).
    fn transition(action: Self::Action) -> &'static Transition<Self, Self::Action> {
        Self::TRANSITIONS
            .iter()
            .find(|t| t.action == action)
            .unwrap_or_else(|| panic!("{} has no transition for {action:?}", Self::NAME))
    }

    /// True when `action` may start from `self`.
    fn allows(self, action: Self::Action) -> bool {
        Self::transition(action).from.contains(&self)
    }

    /// Where `action` leads from `self`, or `None` when it is not allowed from here.
    fn after(self, action: Self::Action) -> Option<Self> {
        let t = Self::transition(action);
        t.from.contains(&self).then_some(t.to)
    }

    /// The states `action` may start from.
    fn sources(action: Self::Action) -> &'static [Self] {
        Self::transition(action).from
    }

    /// The SQL condition that lets a write perform `action`: `state in ('waiting', 'held')`.
    fn guard(action: Self::Action) -> String {
        Self::guard_on("state", action)
    }

    /// [`StateMachine::guard`] on a named (or qualified) column: `t.state in (…)`.
    fn guard_on(column: &str, action: Self::Action) -> String {
        in_list(column, Self::sources(action))
    }
}

/// `column in ('a', 'b')` for a set of text-enum values, and `column = 'a'` for one: SQLite
/// uses a partial index (`… where state = 'waiting'`) only for a query whose condition is
/// written the same way, and refuses `indexed by` it otherwise ("no query solution"). The texts
/// are the enum's own constants (checked to be plain lowercase words by [`check_machine`]),
/// never user input.
pub fn in_list<S: TextEnum>(column: &str, values: &[S]) -> String {
    match values {
        // `in ()` is not SQL; nothing matches.
        [] => return "1 = 0".to_owned(),
        [one] => return format!("{column} = '{}'", one.as_str()),
        _ => {}
    }
    let list = values
        .iter()
        .map(|v| format!("'{}'", v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{column} in ({list})")
}

/// Checks a machine's data: every action has exactly one transition, and every stored text is
/// a plain lowercase word (so a guard can quote it). Each machine calls this in a unit test.
pub fn check_machine<S: StateMachine>() {
    for &action in S::Action::ALL {
        let n = S::TRANSITIONS.iter().filter(|t| t.action == action).count();
        assert_eq!(n, 1, "{}: {action:?} has {n} transitions", S::NAME);
    }
    for &s in S::ALL {
        assert!(
            s.as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{}: {:?} is not a plain word",
            S::NAME,
            s.as_str()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::text_enum! {
        /// A door.
        pub enum Door {
            Open = "open",
            Shut = "shut",
            Locked = "locked",
        }
    }

    crate::text_enum! {
        pub enum DoorAction {
            Close = "close",
            Lock = "lock",
            Unlock = "unlock",
            Open = "open",
        }
    }

    impl StateMachine for Door {
        type Action = DoorAction;
        const TRANSITIONS: &'static [Transition<Self, DoorAction>] = &[
            go(DoorAction::Close, &[Door::Open], Door::Shut),
            go(DoorAction::Lock, &[Door::Shut], Door::Locked),
            go(DoorAction::Unlock, &[Door::Locked], Door::Shut),
            go(DoorAction::Open, &[Door::Shut, Door::Open], Door::Open),
        ];
    }

    #[test]
    fn the_door_machine_is_well_formed() {
        check_machine::<Door>();
    }

    #[test]
    fn an_action_is_allowed_only_from_its_sources() {
        assert!(Door::Shut.allows(DoorAction::Lock));
        assert!(!Door::Open.allows(DoorAction::Lock));
        assert_eq!(Door::Locked.after(DoorAction::Unlock), Some(Door::Shut));
        assert_eq!(Door::Locked.after(DoorAction::Open), None);
    }

    #[test]
    fn the_guard_lists_the_sources_of_an_action() {
        assert_eq!(Door::guard(DoorAction::Open), "state in ('shut', 'open')");
        assert_eq!(
            Door::guard_on("d.state", DoorAction::Lock),
            "d.state = 'shut'"
        );
        assert_eq!(in_list::<Door>("state", &[]), "1 = 0");
    }
}
