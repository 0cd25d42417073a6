//! The `notifications` and `notification_attempts` tables (migration 000016).

/// One notification: its latest state.
pub mod notification {
    use sea_orm::entity::prelude::*;

    /// A row of `notifications`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        /// The notification id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Its latest status.
        pub status: String,
        /// The order of statuses at one instant (forward-only updates).
        pub status_rank: i32,
        /// Attempts made so far.
        pub attempts: i32,
        /// Attempts allowed.
        pub max_attempts: i32,
        /// What decided it (`rule`, `step`, `test` …).
        pub origin: String,
        /// The rule.
        pub rule_id: Option<Uuid>,
        /// The trigger.
        pub trigger: Option<String>,
        /// The channel.
        pub channel_id: Uuid,
        /// Its kind.
        pub channel_kind: String,
        /// The recipient as recorded (never a secret URL).
        pub recipient: String,
        /// The user it was for.
        pub user_id: Option<Uuid>,
        /// The job.
        pub job_id: Option<Uuid>,
        /// The run.
        pub run_id: Option<Uuid>,
        /// The notice.
        pub notice_id: Option<String>,
        /// The rendered subject.
        pub subject: String,
        /// The rendered text.
        pub text: String,
        /// The rendered HTML.
        pub html: Option<String>,
        /// The latest error.
        pub error: Option<String>,
        /// The channel's id of the message.
        pub provider_id: Option<String>,
        /// The first attempt or decision.
        pub first_at: DateTimeWithTimeZone,
        /// The latest one.
        pub last_at: DateTimeWithTimeZone,
        /// Who acknowledged it.
        pub acked_by: Option<Uuid>,
        /// Their user name.
        pub acked_by_name: Option<String>,
        /// When.
        pub acked_at: Option<DateTimeWithTimeZone>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One attempt (one `NotificationRecorded` event).
pub mod attempt {
    use sea_orm::entity::prelude::*;

    /// A row of `notification_attempts`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_attempts")]
    pub struct Model {
        /// The event's envelope id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        /// The notification.
        pub notification_id: Uuid,
        /// What became of it.
        pub status: String,
        /// Attempt number (0 for held and dropped).
        pub attempt: i32,
        /// What went wrong.
        pub error: Option<String>,
        /// The channel's id of the message.
        pub provider_id: Option<String>,
        /// The notifier replica.
        pub replica: String,
        /// When it began.
        pub started_at: DateTimeWithTimeZone,
        /// How long it took, in ms.
        pub duration_ms: i64,
        /// When the api recorded it.
        pub recorded_at: DateTimeWithTimeZone,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
