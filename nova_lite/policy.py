"""Policy enforcement: may this context perform this API action on this target?

One oslo.policy Enforcer per process, built lazily from the global CONF with the
defaults in nova_lite.policies; an operator's override file ([oslo_policy] policy_file,
by default /etc/nova-lite/policy.yaml) is re-read whenever it changes, and a missing one
simply means "use the defaults". An edit of the file in use applies to the next check;
a policy file or policy.d directory that appears, or a policy.d file that changes, within
a second (RELOAD_EVERY).
"""

from __future__ import annotations

import os
import threading
import time

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy as oslo_policy

from nova_lite import exception, policies
from nova_lite.context import RequestContext

DEFAULT_POLICY_FILE = "/etc/nova-lite/policy.yaml"

_ENFORCER: oslo_policy.Enforcer | None = None
_LOCK = threading.Lock()

# Seconds between full looks for changed override files (see _Enforcer).
RELOAD_EVERY = 1.0


class _Enforcer(oslo_policy.Enforcer):
    """oslo.policy's Enforcer looks for changed override files before every check: it
    searches the config directories for the policy file (when missing) and for each
    policy directory, and walks every registered rule, which costs more than the check
    itself (an API request makes several). Here each check only stats the policy file
    in use, so an edit of it still applies at once, and the full look runs at most once
    every RELOAD_EVERY seconds."""

    _looked_at = float("-inf")
    _seen: int | None = None  # the policy file's mtime at the last full look

    def load_rules(self, force_reload: bool = False) -> None:
        now = time.monotonic()
        if (not force_reload and now - self._looked_at < RELOAD_EVERY
                and self._mtime() == self._seen):
            return
        super().load_rules(force_reload)
        self._looked_at, self._seen = now, self._mtime()

    def clear(self) -> None:
        super().clear()
        self._looked_at = float("-inf")

    def _mtime(self) -> int | None:
        if not self.policy_path:
            return None
        try:
            return os.stat(self.policy_path).st_mtime_ns
        except OSError:
            return None


def _conf() -> cfg.ConfigOpts:
    from nova_lite.conf import CONF

    return CONF


def _parsed(conf: cfg.ConfigOpts) -> bool:
    try:
        conf.find_file(DEFAULT_POLICY_FILE)
    except cfg.NotInitializedError:
        return False
    return True


def init(conf: cfg.ConfigOpts | None = None, policy_file: str | None = None,
         use_conf: bool = True) -> oslo_policy.Enforcer:
    """Build the process-wide Enforcer once (tests pass their own conf or file).

    Before the config is parsed (library use, some unit tests) the override file cannot be
    located, so the defaults alone apply until a later call finds the config parsed.
    """
    global _ENFORCER
    with _LOCK:
        stale = _ENFORCER is not None and not _ENFORCER.use_conf and use_conf
        if stale and _parsed(_ENFORCER.conf):
            _ENFORCER = None
        if _ENFORCER is None:
            conf = conf or _conf()
            policy_opts.set_defaults(conf, policy_file=DEFAULT_POLICY_FILE)
            use_conf = use_conf and _parsed(conf)
            enforcer = _Enforcer(conf, policy_file=policy_file, use_conf=use_conf)
            enforcer.register_defaults(policies.list_rules())
            if use_conf:
                enforcer.load_rules()
            else:
                # load_rules() only applies registered defaults when reading the config.
                enforcer.set_rules(oslo_policy.Rules(
                    {r.name: r.check for r in enforcer.registered_rules.values()}))
            _ENFORCER = enforcer
        return _ENFORCER


def reset() -> None:
    """Forget the Enforcer so the next check rebuilds it (tests, SIGHUP)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def get_enforcer() -> oslo_policy.Enforcer:
    """The ``oslo.policy.enforcer`` entry point, for the oslopolicy-* command line tools.

    Those tools never parse nova_lite's config themselves, so do it here with no
    arguments; services call ``init`` instead.
    """
    conf = _conf()
    conf([], project="nova-lite")
    return init(conf)


def _target(ctx: RequestContext, target: dict | None) -> dict:
    if target is None:
        return {"project_id": ctx.project_id, "user_id": ctx.user_id}
    return target


def check(ctx: RequestContext, action: str, target: dict | None = None) -> bool:
    """True when ``ctx`` may perform ``action`` on ``target`` (default: its own project)."""
    enforcer = init()
    return bool(enforcer.enforce(action, _target(ctx, target), ctx.to_policy_values(),
                                 do_raise=False))


def authorize(ctx: RequestContext, action: str, target: dict | None = None) -> None:
    """Raise PolicyNotAuthorized (HTTP 403) unless ``ctx`` may perform ``action``.

    An unregistered action is a programming error, not a denial, so it raises
    PolicyNotRegistered rather than failing closed silently.
    """
    enforcer = init()
    try:
        enforcer.authorize(action, _target(ctx, target), ctx.to_policy_values(),
                           do_raise=True, exc=exception.PolicyNotAuthorized, action=action)
    except oslo_policy.InvalidScope:
        raise exception.PolicyNotAuthorized(action=action) from None
