"""The account area: signing in and out, the second factor, and password reset."""
