-- Login back-off by address as well as by account (api/resources/throttle.c).
-- 0002 counted failures per username only, after the password check: one
-- address could spray many usernames, parallel guesses all passed the check
-- before the first was counted, an attacker could lock a real user out from
-- anywhere, and every unknown username left a row behind.
--
-- Now every attempt is counted before the password is checked, in one
-- INSERT … ON CONFLICT … RETURNING per key that increments and tests at once,
-- on three keys:
--   addr:<address>            every attempt from one address;
--   pair:<account>@<address>  one account (known or not) from one address;
--   acct:<account>            one known account from anywhere (slower limit).
-- From a key's limit-th attempt within an hour each one locks the key for
-- the next (1 min, doubling up to 15 min; 0002's 1 s was nearly used up by
-- the password check itself); an attempt on a locked key is refused (429)
-- and not counted, so hammering does not lengthen the lock. A successful
-- login clears its pair key and gives its attempt back to the other two.
-- Rows idle for an hour are deleted as attempts come; unknown usernames are
-- never counted as accounts, and an address is refused (before any further
-- key is written) once past its limit, so the table holds at most about
-- (address limit + 8) rows per address seen in the last hour.

-- login_throttle_fail (0002) is no longer called, but stays until no replica
-- of the previous version runs: during a rolling upgrade those still call it.

CREATE INDEX login_throttle_idle ON login_throttle (last_failure_at);

-- Count one attempt on p_key whose limit is max_attempts, in one statement
-- that increments and tests at once (the row lock orders concurrent ones).
-- Returns 0 when the attempt may go on (counted; from the limit-th one it
-- locks the key for the next), else the seconds the key stays locked (the
-- attempt is refused and not counted: its last_failure_at is not now()).
CREATE FUNCTION login_throttle_hit(p_key text, max_attempts int) RETURNS int
LANGUAGE sql AS $$
    INSERT INTO login_throttle AS t (key, failures, last_failure_at, locked_until)
    VALUES (p_key, 1, now(), CASE WHEN max_attempts <= 1 THEN now() + interval '1 minute' END)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.locked_until > now() THEN t.failures
                        WHEN t.last_failure_at < now() - interval '1 hour' THEN 1
                        ELSE t.failures + 1 END,
        last_failure_at = CASE WHEN t.locked_until > now() THEN t.last_failure_at ELSE now() END,
        locked_until = CASE
            WHEN t.locked_until > now() THEN t.locked_until
            WHEN t.last_failure_at < now() - interval '1 hour' THEN
                CASE WHEN max_attempts <= 1 THEN now() + interval '1 minute' END
            WHEN t.failures + 1 >= max_attempts THEN
                now() + make_interval(secs => least(900, 60 * power(2, least(10, t.failures + 1 - max_attempts))))
            END
    RETURNING CASE WHEN t.last_failure_at = now() THEN 0
                   ELSE greatest(1, ceil(extract(epoch FROM t.locked_until - now())))::int END
$$;

-- One login (or token) attempt by p_account (lower-cased; p_known: it
-- exists) from p_addr: purge idle rows, then count it on the address, on
-- the account from that address, and on a known account; stop at the first
-- key that refuses. Returns 0 (go on) or the seconds to wait (Retry-After).
CREATE FUNCTION login_throttle_take(p_addr text, p_account text, p_known boolean,
                                    addr_max int, pair_max int, acct_max int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    wait int;
BEGIN
    DELETE FROM login_throttle WHERE key IN (
        SELECT key FROM login_throttle
         WHERE last_failure_at < now() - interval '1 hour'
           AND (locked_until IS NULL OR locked_until < now())
         LIMIT 100 FOR UPDATE SKIP LOCKED);
    wait := login_throttle_hit('addr:' || p_addr, addr_max);
    IF wait = 0 THEN
        wait := login_throttle_hit('pair:' || p_account || '@' || p_addr, pair_max);
    END IF;
    IF wait = 0 AND p_known THEN
        wait := login_throttle_hit('acct:' || p_account, acct_max);
    END IF;
    RETURN wait;
END $$;

-- The attempt succeeded: forget the account's failures from that address,
-- and give the attempt back to the address and the account (lifting a lock
-- the attempt itself set).
CREATE FUNCTION login_throttle_ok(p_addr text, p_account text, addr_max int, acct_max int)
RETURNS void
LANGUAGE sql AS $$
    DELETE FROM login_throttle WHERE key = 'pair:' || p_account || '@' || p_addr;
    UPDATE login_throttle
       SET failures = failures - 1,
           locked_until = CASE WHEN failures - 1 >= CASE WHEN key = 'addr:' || p_addr
                                                         THEN addr_max ELSE acct_max END
                               THEN locked_until END
     WHERE key IN ('addr:' || p_addr, 'acct:' || p_account) AND failures > 0;
$$;
