from django import template

register = template.Library()


@register.filter
def bio(profile, language: str) -> str:
    """A staff member's bio in the viewer's language, falling back to the other one."""
    return profile.bio(language) if profile is not None else ""


@register.filter
def text_in(workspace, spec: str) -> str:
    """``workspace|text_in:"refund_policy,en"``: a bilingual workspace text in a language."""
    field, _, language = spec.partition(",")
    return workspace.text(field, language or "id")


@register.filter
def can_do(membership, capability: str) -> bool:
    from jasa.accounts.permissions import can

    return can(membership, capability)
