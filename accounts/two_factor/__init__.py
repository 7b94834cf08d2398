"""Two-step sign-in ('Tweestapsverificatie') for staff who sign in with a password: a TOTP
authenticator app plus ten one-time recovery codes, on django-otp's devices. The college chooses
per role who must use it (Organisation.two_factor_roles); the middleware keeps a session that
has not passed it out of everything else."""
