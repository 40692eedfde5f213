"""Policy enforcement: may this context perform this API action on this target?

One oslo.policy Enforcer per process, built lazily from the global CONF with the
defaults in nova_lite.policies; an operator's override file ([oslo_policy] policy_file,
by default /etc/nova-lite/policy.yaml) is re-read whenever it changes, and a missing one
simply means "use the defaults".
"""

from __future__ import annotations

import threading

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy as oslo_policy

from nova_lite import exception, policies
from nova_lite.context import RequestContext

DEFAULT_POLICY_FILE = "/etc/nova-lite/policy.yaml"

_ENFORCER: oslo_policy.Enforcer | None = None
_LOCK = threading.Lock()


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
            enforcer = oslo_policy.Enforcer(conf, policy_file=policy_file, use_conf=use_conf)
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
