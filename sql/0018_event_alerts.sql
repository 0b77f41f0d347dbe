-- 0018: alerts per event. A rule with `per: event` alerts once per event: the alert records the
-- event, and a partial unique index keeps a second story of the same event (another outlet,
-- another language) from alerting again under that rule. Rules per story (the default) leave
-- event_id NULL and are untouched.
ALTER TABLE alerts ADD COLUMN event_id bigint REFERENCES events (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX alerts_rule_event_idx ON alerts (rule, event_id) WHERE event_id IS NOT NULL;
COMMENT ON COLUMN alerts.event_id IS
    'For a rule with per: event, the event alerted (one alert per rule and event); NULL for rules per story.';
