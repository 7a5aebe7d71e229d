"""Optional TOTP two-factor login for portal users (django-otp): enrolment, the login's code step, backup codes,
and the rule that platform staff must use it when OTP_REQUIRED_FOR_STAFF is on.

Nothing is imported here: `portal.two_factor.apps` is loaded while the app registry is still being filled.
"""
