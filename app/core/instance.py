"""The instance folder holds what must stay private: the database (names, phones and ID
numbers of the people served), the secret key, the upstream token, uploads and backups.
On POSIX systems it is kept to its owner: the folder 0700, what is in it 0600 (and
0700 for folders), and everything the program makes later is made owner-only too.
"""
import os
import stat


def protect(path: str) -> None:
    """Make the instance folder owner-only, and the program's new files with it."""
    if os.name != "posix":
        return
    os.umask(0o077)
    os.makedirs(path, mode=0o700, exist_ok=True)
    _owner_only(path)
    for top, folders, files in os.walk(path):
        for name in folders:
            _owner_only(os.path.join(top, name))
        for name in files:
            _owner_only(os.path.join(top, name))


def _owner_only(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode) or mode & 0o077 == 0:
        return
    try:
        os.chmod(path, 0o700 if stat.S_ISDIR(mode) else 0o600)
    except PermissionError:  # not ours: leave it to its owner
        pass
