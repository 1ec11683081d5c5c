"""Runs `scim2` (scim2-cli) with scim2-tester's random filler giving `userName` and
`emails[].value` addresses at one domain, then hands over to the CLI unchanged.

Usage: python scim2_email_filler.py DOMAIN [scim2 arguments...]

Why: scim2-tester fills `userName` with a random UUID and `emails[].value` with
`<uuid>@<uuid>.com`. RFC 7643 §4.1.1 leaves what a `userName` is to the service provider
("a service provider's unique identifier for the user"), and portalctl's is the partner's
email address at one of the org's domains, so every User check that creates a user was
refused with `400 invalidValue` before it could test anything. Everything else scim2-tester
generates, and every check it runs, stays as it is.
"""

import sys
import uuid

import scim2_tester.filling as filling
from scim2_tester.checkers import patch_add
from scim2_tester.checkers import patch_replace
from scim2_cli import cli

original = filling.generate_random_value


def is_address(path) -> bool:
    """The attributes that must be an address at the org's domain: `userName` and an
    email's `value` (the same test scim2-tester uses to pick an email)."""
    binding = path.resolve()
    model = binding.target_model if binding else path.model
    field = binding.target_field_name if binding else None
    text = str(path)
    return (
        text.endswith("userName")
        or field == "userName"
        or text.endswith("emails.value")
        or (field == "value" and model is not None and "email" in model.__name__.lower())
    )


def main() -> None:
    if len(sys.argv) < 2 or "." not in sys.argv[1]:
        sys.exit("usage: scim2_email_filler.py DOMAIN [scim2 arguments...]")
    domain = sys.argv[1]

    def generate_random_value(context, path, mutability=None, required=None):
        value = original(context, path=path, mutability=mutability, required=required)
        if value is None or not is_address(path):
            return value
        address = f"{uuid.uuid4()}@{domain}"
        return [address] if isinstance(value, list) else address

    # `fill_with_random_values` looks the function up in its module; the PATCH checkers
    # imported it by name, so each gets the replacement too.
    filling.generate_random_value = generate_random_value
    patch_add.generate_random_value = generate_random_value
    patch_replace.generate_random_value = generate_random_value
    cli(args=sys.argv[2:], prog_name="scim2")


if __name__ == "__main__":
    main()
