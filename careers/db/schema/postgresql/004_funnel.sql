-- funnel counters and the channel of each application
-- Nothing here names a person: no address, no user agent, no cookie, no application id.
-- position_id 0 is the job list; channel '' is a visit without _pc / utm_source.
CREATE TABLE funnel_counts (
    day text NOT NULL,                  -- UTC date, YYYY-MM-DD
    position_id bigint NOT NULL,
    channel text NOT NULL,
    language text NOT NULL,
    step text NOT NULL,                 -- list_view, job_view, form_opened, submitted, delivered
    n bigint NOT NULL,
    PRIMARY KEY (day, position_id, channel, language, step)
);
-- The channel an application came through, so its delivery is counted under it too.
ALTER TABLE applications ADD COLUMN funnel_channel text NOT NULL DEFAULT '';
