-- 0012: alert_status shows the deliveries of digest alerts too. A digest rule's alerts are sent
-- as part of their digest (alert_deliveries.digest_id), so joining on alert_id alone listed them
-- with no channel and no state, and `newsmon alerts list` could not tell whether they went out.

CREATE OR REPLACE VIEW alert_status AS
SELECT a.id AS alert_id, a.rule, a.mode, a.story_id, a.title, a.score, a.created_at,
       d.channel, d.status, d.attempts, d.next_attempt_at, d.sent_at, d.last_error,
       a.digest_id
FROM alerts a
LEFT JOIN alert_deliveries d
       ON d.alert_id = a.id OR (a.digest_id IS NOT NULL AND d.digest_id = a.digest_id);

COMMENT ON VIEW alert_status IS
    'One row per alert and channel: the alert and where its delivery stands (channel NULL if none '
    'yet). An alert of a digest rule shows the deliveries of the digest that carried it.';
COMMENT ON COLUMN alert_status.digest_id IS
    'The digest that carried this alert (alert_digests.id); NULL for immediate alerts and for '
    'digest alerts whose period has not closed yet.';
