//! Typed ids: one newtype per table whose rows are referred to across modules, so a zone's id
//! can never be passed where a window's is wanted. Each is stored as the table's `bigint`
//! primary key and encodes and decodes through sqlx's `Any` driver like the `i64` it wraps
//! (`#[sqlx(transparent)]`); in JSON it is the bare number.

macro_rules! ids {
    ($( $(#[$doc:meta])* $name:ident ),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The stored number.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )+};
}

ids! {
    /// A service center (政务服务中心 / 便民服务中心 / 便民服务站), `centers.id`.
    CenterId,
    /// A zone of a hall (功能区 / 专区), `zones.id`.
    ZoneId,
    /// A window (窗口), `windows.id`.
    WindowId,
    /// A person who signs in: staff or admin, `users.id`.
    UserId,
    /// An API token of a device or integration, `api_tokens.id`.
    TokenId,
    /// A queue ticket (排队号), `tickets.id`.
    TicketId,
    /// A row of a ticket's history, `ticket_events.id`.
    TicketEventId,
    /// A matter or a category of the catalogue (事项 / 办事情形), `matters.id`.
    MatterId,
    /// A material a situation asks for (申请材料), `matter_materials.id`.
    MaterialId,
    /// An uploaded sample or blank form, `catalog_files.id`.
    FileId,
    /// A background job, `jobs.id`.
    JobId,
    /// A case (办件), for the cases area.
    CaseId,
    /// A co-department's part of a 联办件, `case_tasks.id`.
    CaseTaskId,
    /// An appointment (预约), for the booking area.
    BookingId,
    /// A home visit (上门服务), `home_visits.id`.
    HomeVisitId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_number_in_json_and_text() {
        let id = CenterId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<CenterId>("42").unwrap(), id);
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<CenterId>().unwrap(), id);
    }
}
