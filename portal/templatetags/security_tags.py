"""Members page: which members are locked out of logging in (portal.brute_force)."""

from django import template

from portal import brute_force

register = template.Library()


@register.simple_tag
def member_lockouts(account, members) -> dict:
    """Running lock-outs of these memberships' users in `account`, by user id (one query)."""
    return brute_force.running_lockouts(account, {member.user_id for member in members})


@register.simple_tag
def lockout_of(lockouts: dict, member):
    return lockouts.get(member.user_id)
