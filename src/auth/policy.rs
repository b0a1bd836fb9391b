//! Who may do what (R1.5): every authorisation rule of the roles, decided here and nowhere
//! else. Use cases call these functions; [`CurrentUser`]'s own checks route through them.
//!
//! A system admin (系统管理员) may see and manage every center, and act at any window for
//! support; other roles count only at the centers a person belongs to.

use super::{CurrentUser, Role};

/// Holds `role` at the center (a member of it with that role).
fn holds_at(user: &CurrentUser, role: Role, center_id: i64) -> bool {
    user.has_role(role) && is_member(user, center_id)
}

fn is_member(user: &CurrentUser, center_id: i64) -> bool {
    user.center_ids.contains(&center_id)
}

/// A system admin (系统管理员).
pub fn is_admin(user: &CurrentUser) -> bool {
    user.has_role(Role::SystemAdmin)
}

/// May see the center's internal records (staff, posts, its audit trail).
pub fn can_see_center(user: &CurrentUser, center_id: i64) -> bool {
    is_admin(user) || is_member(user, center_id)
}

/// May change the center's structure, people and posts: a system admin, or a hall manager
/// (大厅管理员) of it.
pub fn can_manage_center(user: &CurrentUser, center_id: i64) -> bool {
    is_admin(user) || holds_at(user, Role::HallManager, center_id)
}

/// May manage anything at all (the admin menu, the staff pages).
pub fn is_manager(user: &CurrentUser) -> bool {
    is_admin(user) || user.has_role(Role::HallManager)
}

/// May create a center: a system admin only.
pub fn can_create_center(user: &CurrentUser) -> bool {
    is_admin(user)
}

/// May approve applications of the center in the back office: a 后台审批人员 of it.
pub fn can_approve(user: &CurrentUser, center_id: i64) -> bool {
    holds_at(user, Role::Approver, center_id)
}

/// Is a department's chief representative (首席代表) at the center.
pub fn is_chief_representative(user: &CurrentUser, center_id: i64) -> bool {
    holds_at(user, Role::ChiefRepresentative, center_id)
}

/// May read the center's reports and supervise it: a leader (领导) or hall manager of it, or
/// a system admin.
pub fn can_read_reports(user: &CurrentUser, center_id: i64) -> bool {
    is_admin(user)
        || holds_at(user, Role::Leader, center_id)
        || holds_at(user, Role::HallManager, center_id)
}

/// May take in, accept at intake, notify, refuse and issue cases at the center (R6.1): its
/// window clerks, hall managers and department staff (approvers, chief representatives), or
/// a system admin for support.
pub fn can_take_in(user: &CurrentUser, center_id: i64) -> bool {
    is_admin(user)
        || [
            Role::WindowClerk,
            Role::HallManager,
            Role::Approver,
            Role::ChiefRepresentative,
        ]
        .into_iter()
        .any(|r| holds_at(user, r, center_id))
}

/// May accept a case a 收件权-only window received (seed 000 §2.4.2): the department's staff.
pub fn can_accept_collected(user: &CurrentUser, center_id: i64) -> bool {
    can_approve(user, center_id) || is_chief_representative(user, center_id)
}

/// May decide a case: an approver of the center; a 即办件 also its window clerks.
pub fn can_decide(user: &CurrentUser, center_id: i64, immediate: bool) -> bool {
    can_approve(user, center_id) || (immediate && holds_at(user, Role::WindowClerk, center_id))
}

/// May approve an extension of a case's time limit: the chief representative or a hall
/// manager of the center.
pub fn can_grant_extension(user: &CurrentUser, center_id: i64) -> bool {
    is_chief_representative(user, center_id) || holds_at(user, Role::HallManager, center_id)
}

/// May write the leader's opinion on a refusal (否定报备登记表): a leader of the center.
pub fn can_give_opinion(user: &CurrentUser, center_id: i64) -> bool {
    holds_at(user, Role::Leader, center_id)
}

/// May book for a caller (电话预约, 现场预约) and answer booking requests at the center (seed
/// 000 §5.2.1, seed 001 第三章五): the staff who take in cases there.
pub fn can_serve_bookings(user: &CurrentUser, center_id: i64) -> bool {
    can_take_in(user, center_id)
}

/// May answer home-visit requests at the center (arrange, propose a refusal, mark done,
/// cancel; seed 001 第二章): the staff who answer bookings there.
pub fn can_serve_home_visits(user: &CurrentUser, center_id: i64) -> bool {
    can_serve_bookings(user, center_id)
}

/// May see a home visit's applicant unmasked: who answers home visits at the center (the
/// hall manager among them), or a member of the center assigned to go.
pub fn can_see_home_visit_applicant(user: &CurrentUser, center_id: i64, assigned: bool) -> bool {
    can_serve_home_visits(user, center_id) || (assigned && is_member(user, center_id))
}

/// May approve the refusal of a booking or a home visit (seed 001: 报经县政务服务大厅同意),
/// and set the center's booking rules: a hall manager of the center.
pub fn can_approve_booking_refusal(user: &CurrentUser, center_id: i64) -> bool {
    can_manage_center(user, center_id)
}

/// May read the audit trail at all (the page; rows are then scoped to their centers).
pub fn can_read_audit(user: &CurrentUser) -> bool {
    is_manager(user) || user.has_role(Role::Leader)
}

/// May call, serve and transfer at a window: a system admin (support), or whoever holds an A
/// or B post there (`holds_post`, read from `window_posts` by the caller).
pub fn can_act_at_window(user: &CurrentUser, holds_post: bool) -> bool {
    is_admin(user) || holds_post
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::extract::AuthVia;

    fn user(roles: &[Role], centers: &[i64]) -> CurrentUser {
        CurrentUser {
            id: crate::ids::UserId(1),
            login: "u".into(),
            display_name: "U".into(),
            roles: roles.to_vec(),
            center_ids: centers.to_vec(),
            via: AuthVia::Session,
        }
    }

    #[test]
    fn an_admin_sees_and_manages_every_center() {
        let a = user(&[Role::SystemAdmin], &[]);
        assert!(can_see_center(&a, 7));
        assert!(can_manage_center(&a, 7));
        assert!(can_create_center(&a));
        assert!(is_manager(&a));
    }

    #[test]
    fn a_member_sees_only_their_centers() {
        let c = user(&[Role::WindowClerk], &[1]);
        assert!(can_see_center(&c, 1));
        assert!(!can_see_center(&c, 2));
    }

    #[test]
    fn a_hall_manager_manages_their_centers_only() {
        let m = user(&[Role::HallManager], &[1]);
        assert!(can_manage_center(&m, 1));
        assert!(!can_manage_center(&m, 2));
        assert!(is_manager(&m));
        assert!(!can_create_center(&m));
        let clerk = user(&[Role::WindowClerk], &[1]);
        assert!(!can_manage_center(&clerk, 1));
        assert!(!is_manager(&clerk));
    }

    #[test]
    fn an_approver_approves_at_their_centers_only() {
        let a = user(&[Role::Approver], &[1]);
        assert!(can_approve(&a, 1));
        assert!(!can_approve(&a, 2));
        assert!(!can_approve(&user(&[Role::WindowClerk], &[1]), 1));
        assert!(!can_approve(&user(&[Role::SystemAdmin], &[]), 1));
    }

    #[test]
    fn a_chief_representative_is_one_at_their_centers_only() {
        let r = user(&[Role::ChiefRepresentative], &[3]);
        assert!(is_chief_representative(&r, 3));
        assert!(!is_chief_representative(&r, 4));
        assert!(!is_chief_representative(&user(&[Role::Leader], &[3]), 3));
    }

    #[test]
    fn leaders_managers_and_admins_read_reports() {
        assert!(can_read_reports(&user(&[Role::Leader], &[1]), 1));
        assert!(!can_read_reports(&user(&[Role::Leader], &[1]), 2));
        assert!(can_read_reports(&user(&[Role::HallManager], &[1]), 1));
        assert!(can_read_reports(&user(&[Role::SystemAdmin], &[]), 9));
        assert!(!can_read_reports(&user(&[Role::WindowClerk], &[1]), 1));
    }

    #[test]
    fn home_visits_are_answered_by_the_centers_staff_and_seen_by_those_who_go() {
        let clerk = user(&[Role::WindowClerk], &[1]);
        let leader = user(&[Role::Leader], &[1]);
        assert!(can_serve_home_visits(&clerk, 1));
        assert!(!can_serve_home_visits(&clerk, 2));
        assert!(!can_serve_home_visits(&leader, 1));
        assert!(!can_see_home_visit_applicant(&leader, 1, false));
        assert!(can_see_home_visit_applicant(&leader, 1, true));
        assert!(!can_see_home_visit_applicant(&leader, 2, true));
    }

    #[test]
    fn leaders_and_managers_read_the_audit_trail() {
        assert!(can_read_audit(&user(&[Role::Leader], &[1])));
        assert!(can_read_audit(&user(&[Role::HallManager], &[1])));
        assert!(!can_read_audit(&user(&[Role::Approver], &[1])));
    }

    #[test]
    fn only_post_holders_and_admins_act_at_a_window() {
        let clerk = user(&[Role::WindowClerk], &[1]);
        assert!(can_act_at_window(&clerk, true));
        assert!(!can_act_at_window(&clerk, false));
        assert!(can_act_at_window(&user(&[Role::SystemAdmin], &[]), false));
    }
}
