//! The rulebook's word for the tests that call the domain directly, as the
//! surfaces get it: a person holding every role, named as the chain names them.

use senim::cases::Act;
use senim::rulebook::{self, Acting, Permitted, Role, Rule};

/// The permit for the action of the rule `R`, given to `actor`.
pub fn acting<R: Rule>(actor: &str) -> Acting<R> {
    rulebook::acting(Role::ALL, actor).expect("every role together may take every action")
}

/// The permit for `act`'s action, given to `actor`.
pub fn permitted(act: &Act, actor: &str) -> Permitted {
    permitted_as(act.action(), actor)
}

/// The permit for `action`, given to `actor` (an act written out in the call).
pub fn permitted_as(action: rulebook::Action, actor: &str) -> Permitted {
    rulebook::check(Role::ALL, action)
        .expect("every role together may take every action")
        .by(actor)
}
