//! Names the DSL reserves: attribute names and attribute keys, in one place so that parsing,
//! "did you mean" suggestions and error messages cannot disagree.

/// The app attribute (`#[mos_runtime::app]`).
pub const APP: &str = "app";
/// Helper attribute: a user-defined event (on a struct) or an anonymous one (on a handler).
pub const EVENT: &str = "event";
/// Helper attribute: a handler.
pub const ON: &str = "on";
/// Helper attribute: the per-connection state type.
pub const FLOW_STATE: &str = "flow_state";
/// Helper attribute: the per-core state type.
pub const CORE_STATE: &str = "core_state";

/// `#[app(scope = "...")]`.
pub const SCOPE: &str = "scope";
/// `#[event(base = ...)]`.
pub const BASE: &str = "base";
/// `#[event(filter = ...)]`.
pub const FILTER: &str = "filter";
/// `#[event(raised_by_filter)]`: a child event raised by its base event's filter.
pub const RAISED: &str = "raised";
/// `#[on(event = ...)]`.
pub const EVENT_KEY: &str = "event";
/// `#[on(hook = ...)]`.
pub const HOOK: &str = "hook";
/// `#[on(per_flow)]`: the handler starts disabled on every flow.
pub const PER_FLOW: &str = "per_flow";
/// `#[core_state(merge = ...)]`.
pub const MERGE: &str = "merge";

/// Keys `#[app(..)]` accepts.
pub const APP_KEYS: &[&str] = &[SCOPE];
/// Keys `#[event(..)]` accepts.
pub const EVENT_KEYS: &[&str] = &[BASE, FILTER, RAISED];
/// Keys `#[on(..)]` accepts.
pub const ON_KEYS: &[&str] = &[EVENT_KEY, HOOK, PER_FLOW];
/// Keys `#[core_state(..)]` accepts.
/// `#[core_state(fork = ...)]`.
pub const FORK: &str = "fork";

/// Keys `#[core_state(..)]` accepts.
pub const CORE_STATE_KEYS: &[&str] = &[MERGE, FORK];

/// The names `#[app]` generates inside the user's module.
pub const GENERATED_APP_TYPE: &str = "App";
/// The module of handler ids `#[app]` generates.
pub const GENERATED_HANDLERS_MOD: &str = "handlers";
/// The module of child-event ids `#[app]` generates.
pub const GENERATED_EVENTS_MOD: &str = "events";
