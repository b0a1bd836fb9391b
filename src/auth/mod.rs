//! Who is asking: roles (R1.5), passwords, sessions, API tokens, CSRF and sign-in lockout.

mod acting;
mod csrf;
pub mod extract;
pub mod password;
pub mod policy;
mod queries;
pub mod routes;
pub mod service;
pub mod tokens;

pub use acting::{Acting, Credential, valid_credentials};
pub use csrf::{CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, CsrfToken, protect};
pub use extract::{CurrentUser, MaybeUser, PageUser, SESSION_COOKIE, Viewer};
pub use routes::router;

use serde::{Deserialize, Serialize};

/// A role a person holds in the hall (R1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员 — every center, every window (support).
    SystemAdmin,
    /// 大厅管理员 — runs the hall's structure and people for their centers.
    HallManager,
    /// 窗口工作人员 (前台) — serves at the windows they hold a post at.
    WindowClerk,
    /// 后台审批人员.
    Approver,
    /// 首席代表 — a department's representative in the hall.
    ChiefRepresentative,
    /// 领导 — reads reports and supervises.
    Leader,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::SystemAdmin,
        Role::HallManager,
        Role::WindowClerk,
        Role::Approver,
        Role::ChiefRepresentative,
        Role::Leader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::HallManager => "hall_manager",
            Role::WindowClerk => "window_clerk",
            Role::Approver => "approver",
            Role::ChiefRepresentative => "chief_representative",
            Role::Leader => "leader",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The name the UI shows.
    pub fn label(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::HallManager => "大厅管理员",
            Role::WindowClerk => "窗口工作人员",
            Role::Approver => "后台审批人员",
            Role::ChiefRepresentative => "首席代表",
            Role::Leader => "领导",
        }
    }

    /// Roles as their Chinese labels in a line, "窗口工作人员、后台审批人员".
    pub fn labels(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// Random bytes as lowercase hex: session ids, API tokens, CSRF tokens.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source");
    hex::encode(buf)
}

/// SHA-256 of a secret, as stored: the database never holds a usable token.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}
