from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.auth import bp, services
from app.auth.forms import LoginForm, PasswordChangeForm, UserForm
from app.core import choices
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.security import assignable_roles, local_url, require, scoped
from app.models import Commissioner, User
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render


def _safe_next(target: str | None) -> str:
    return local_url(target, url_for("main.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return _with_device_cookie(_login())


def _login():
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or "?"
        device = services.device_key(request.cookies.get(services.DEVICE_COOKIE), address)
        username = form.username.data.strip().lower()
        minutes = services.minutes_locked(username, device, address)
        if minutes:
            form.username.errors.append(_(
                "Too many failed logins. Logins for this name or from this device are "
                "refused for %(minutes)s more minutes.", minutes=minutes))
            return invalid("auth/login.html", form=form)
        services.slow_down(username, device, address)
        user = services.authenticate(form.username.data, form.password.data, address, device)
        if user is None:
            form.password.errors.append(_("Wrong user name or password."))
            return invalid("auth/login.html", form=form)
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    if form.is_submitted():
        return invalid("auth/login.html", form=form)
    return render("auth/login.html", form=form)


def _with_device_cookie(response):
    """The login page gives the browser a device cookie (kept a year), so that failed
    logins count per device rather than per address (app/auth/services.py)."""
    response = make_response(response)
    token = request.cookies.get(services.DEVICE_COOKIE)
    if not (token and services.DEVICE_TOKEN.fullmatch(token)):
        response.set_cookie(services.DEVICE_COOKIE, services.new_device_token(),
                            max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


def _stay_logged_in() -> None:
    """After the current user's own sessions were ended (a new password), keep this one:
    log in again under the new generation, with a new remember-me cookie if it had one."""
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    user = db.session.get(User, current_user.id)
    login_user(user, remember=cookie in request.cookies)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.end_sessions(current_user)
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not services.password_matches(current_user, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
            return invalid("auth/password.html", form=form)
        services.change_password(current_user, form.new.data)
        _stay_logged_in()
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("main.home"))
    if form.is_submitted():
        return invalid("auth/password.html", form=form)
    return render("auth/password.html", form=form)


def _node_users():
    return select(User).where(User.node_code == current_user.node_code).order_by(User.username)


def _user_form(user: User | None = None) -> UserForm:
    form = UserForm(obj=user)
    form.role.choices = [(r, choices.ROLES[r]) for r in assignable_roles()]
    commissioners = db.session.scalars(
        scoped(Commissioner).order_by(Commissioner.name)).all()
    form.commissioner_id.choices = [("", "—")] + [(c.id, c.name) for c in commissioners]
    return form


@bp.get("/users")
@require("manage_users")
def users():
    return render("auth/users.html", users=db.session.scalars(_node_users()).all(),
                  assignable=assignable_roles())


@bp.route("/users/new", methods=["GET", "POST"])
@require("manage_users")
def user_new():
    form = _user_form()
    if form.validate_on_submit():
        if services.username_taken(form.username.data):
            form.username.errors.append(_("This user name is taken."))
        elif not form.password.data:
            form.password.errors.append(_("A new account needs a password."))
        else:
            services.create_user(
                username=form.username.data, password=form.password.data,
                role=form.role.data, node_code=current_user.node_code,
                display_name=form.display_name.data or "",
                commissioner_id=form.commissioner_id.data or None)
            flash(_("The account has been created."), "success")
            return redirect(url_for("auth.users"))
    if form.is_submitted():
        return invalid("auth/user_form.html", form=form, user=None)
    return render("auth/user_form.html", form=form, user=None)


def _managed_user(user_id: int) -> User:
    """An account of the admin's node with a role they may assign, or 404."""
    user = db.session.scalar(_node_users().where(User.id == user_id))
    if user is None or user.role not in assignable_roles():
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("manage_users")
def user_edit(user_id: int):
    user = _managed_user(user_id)
    form = _user_form(user)
    del form.username
    if form.validate_on_submit():
        if user.id == current_user.id and (not form.active.data or form.role.data != user.role):
            form.role.errors.append(_("You cannot remove your own admin rights or account."))
        else:
            services.update_user(
                user, display_name=form.display_name.data or "", role=form.role.data,
                commissioner_id=form.commissioner_id.data or None, active=form.active.data,
                new_password=form.password.data or "")
            if user.id == current_user.id:  # an admin's own new password
                _stay_logged_in()
            flash(_("The account has been saved."), "success")
            return redirect(url_for("auth.users"))
    if form.is_submitted():
        return invalid("auth/user_form.html", form=form, user=user)
    return render("auth/user_form.html", form=form, user=user)


@bp.post("/users/<int:user_id>/end-sessions")
@require("manage_users")
def user_end_sessions(user_id: int):
    """End every session and remember-me cookie of an account (a lost phone, a shared
    laptop); ending one's own keeps the current session."""
    user = _managed_user(user_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    services.end_sessions(user)
    if user.id == current_user.id:
        _stay_logged_in()
    flash(_("Every session of %(name)s has ended; they must log in again.", name=user),
          "success")
    return redirect(url_for("auth.users"))
