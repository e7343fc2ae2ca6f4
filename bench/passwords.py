"""The password both servers of a benchmark check, hashed once with the same scheme for
both: one crypt(3) string that Postino imports (`postino user import-passwd`) and Dovecot
reads from a passwd-file. A comparison where one server verifies a memory-hard hash and
the other compares a plain string measures the hash: yescrypt's 16 MiB scratch also
leaves the CPU's caches cold for the command after LOGIN (about 50 us of a 100,000-message
SELECT, measured)."""

import random
import warnings


def password_hash(password, scheme):
    """crypt(3) of password: "yescrypt" with libxcrypt's default cost (what crypt_gensalt
    gives Postino for a new user) or "sha512-crypt"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    if scheme == "sha512-crypt":
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    salt = "".join(random.choice(alphabet) for _ in range(16))
    h = crypt.crypt(password, f"$y$j9T${salt}$")
    if not h or not h.startswith("$y$"):
        raise RuntimeError("this libcrypt makes no yescrypt hashes")
    return h


def write_passwd_file(path, names, hashed):
    """A passwd-file (Dovecot's format, which `postino user import-passwd` reads) giving
    every name the same hash."""
    with open(path, "w") as f:
        for name in names:
            f.write(f"{name}:{{CRYPT}}{hashed}::::::\n")


def dovecot_passdb(path):
    """Dovecot configuration for a passdb reading path; tests/e2e/dovecot.py's static
    passdb ("secret") stays first, and ours answers when that one fails."""
    return f"""
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {path}
}}
"""
