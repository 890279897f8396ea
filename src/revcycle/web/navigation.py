"""What a signed-in user sees in the navigation, and where each role lands.

Each item names the permission it needs (domain.permissions); an item is shown only when
the user's roles in the current practice grant it, so nobody sees a link that would answer
"not allowed". A client sees only their own account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from revcycle.domain.permissions import Permission, Role, can
from revcycle.services.actor import Actor


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    permission: Permission | None = None
    role: Role | None = None  # shown for this role only (a landing page of its own)
    group: str = ""  # shown under this menu (so the bar fits a laptop screen), else on the bar


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("dashboard", "Dashboard", "/dashboard", Permission.VIEW_DASHBOARD),
    NavItem("my_sessions", "My sessions", "/my-sessions", role=Role.THERAPIST),
    NavItem("front_desk", "Front desk", "/front-desk", role=Role.FRONT_DESK),
    NavItem("my_account", "My account", "/my-account", role=Role.CLIENT),
    NavItem("imports", "Import", "/imports", Permission.ENTER_CHARGES),
    NavItem("sessions", "Sessions", "/sessions", Permission.VIEW_SESSIONS),
    NavItem("claims", "Claims", "/claims", Permission.VIEW_CLAIMS),
    NavItem("x12", "X12 files", "/x12", Permission.SUBMIT_CLAIMS, group="More"),
    NavItem("payments", "Payments", "/payments", Permission.VIEW_FINANCIALS),
    NavItem("payment_entry", "Payment entry", "/payments/new", Permission.POST_PAYMENTS, group="Money"),
    NavItem("remittances", "Remittances", "/remittances", Permission.POST_PAYMENTS, group="Money"),
    NavItem("underpayments", "Underpaid", "/underpayments", Permission.POST_PAYMENTS, group="Money"),
    NavItem("appeals", "Appeals", "/appeals", Permission.APPEAL_DENIAL, group="Money"),
    NavItem("deposits", "Deposits", "/deposits", Permission.POST_PAYMENTS, group="Money"),
    NavItem("work_queue", "Work queue", "/work-queue", Permission.VIEW_WORK_QUEUE),
    NavItem("alerts", "Alerts", "/alerts", Permission.VIEW_WORK_QUEUE, group="More"),
    NavItem("workload", "Workload", "/workload", Permission.VIEW_WORK_QUEUE, group="More"),
    NavItem("followup_rules", "Follow-up rules", "/followup-rules", Permission.MANAGE_PRACTICE, group="More"),
    NavItem("reports", "Reports", "/reports", Permission.RUN_REPORTS),
    NavItem(
        "payer_strategies", "Payer strategies", "/payer-strategies", Permission.RUN_REPORTS, group="More"
    ),
    NavItem("analytics", "Analytics", "/analytics", Permission.RUN_REPORTS, group="More"),
    NavItem("insurance", "Insurance", "/insurance", Permission.VIEW_PAYERS),
    NavItem("fees", "Fees", "/fees", Permission.MANAGE_FEES, group="More"),
    NavItem("settings", "Settings", "/settings", Permission.MANAGE_PRACTICE, group="More"),
    NavItem("audit", "Audit log", "/audit", Permission.VIEW_AUDIT_LOG, group="More"),
)

# Where "/" sends each role, most capable first (a user with several roles lands on the first).
LANDING_PAGES: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "/dashboard"),
    (Role.BILLING, "/dashboard"),
    (Role.THERAPIST, "/my-sessions"),
    (Role.FRONT_DESK, "/front-desk"),
    (Role.CLIENT, "/my-account"),
)


def current_practice_id(auth: Any) -> int | None:
    """The practice the user works in: the session's choice, else their first membership."""
    if auth is None:
        return None
    actor: Actor = auth.actor
    chosen = auth.web_session.practice_id if auth.web_session is not None else None
    if chosen is not None and chosen in actor.practice_ids:
        return int(chosen)
    return min(actor.practice_ids) if actor.practice_ids else None


def nav_items(auth: Any) -> list[NavItem]:
    practice_id = current_practice_id(auth)
    if practice_id is None:
        return []
    roles = auth.actor.roles_in(practice_id)
    if roles == {Role.CLIENT}:
        return [item for item in NAV_ITEMS if item.role is Role.CLIENT]
    return [item for item in NAV_ITEMS if _shown(item, roles)]


def _shown(item: NavItem, roles: frozenset[Role]) -> bool:
    if item.role is not None:
        return item.role in roles
    return item.permission is not None and can(roles, item.permission)


def landing_page(roles: frozenset[Role]) -> str:
    for role, page in LANDING_PAGES:
        if role in roles:
            return page
    return "/account/password"


def practice_choices(auth: Any) -> list[Any]:
    """The practices the user belongs to (for the user menu), by name."""
    if auth is None:
        return []
    seen: dict[int, Any] = {}
    for membership in auth.user.memberships:
        if membership.practice_id in auth.actor.practice_ids:
            seen.setdefault(membership.practice_id, membership.practice)
    return sorted(seen.values(), key=lambda practice: practice.name)


def current_practice(auth: Any) -> Any:
    practice_id = current_practice_id(auth)
    for practice in practice_choices(auth):
        if practice.id == practice_id:
            return practice
    return None


@dataclass(frozen=True)
class PracticeChoice:
    id: int
    name: str


@dataclass(frozen=True)
class ShellView:
    """What the page shell shows about the signed-in user, as plain values.

    Taken while the request's database session is open and kept on ``request.state``: an
    error page renders after the session rolled back, when the ORM objects can no longer load.
    """

    user_label: str
    csrf_token: str
    practice: PracticeChoice | None
    nav: list[NavItem] = field(default_factory=list)
    other_practices: list[PracticeChoice] = field(default_factory=list)


def shell_view(request: Any, auth: Any) -> ShellView | None:
    """The shell for this request (cached), or None when signed out or no longer loadable."""
    cached = getattr(request.state, "shell", None) if request is not None else None
    if cached is not None or auth is None:
        return cached
    try:
        practice = current_practice(auth)
        chosen = PracticeChoice(practice.id, practice.name) if practice is not None else None
        view = ShellView(
            user_label=auth.user.full_name or auth.user.email,
            csrf_token=auth.csrf_token,
            practice=chosen,
            nav=nav_items(auth),
            other_practices=[
                PracticeChoice(p.id, p.name)
                for p in practice_choices(auth)
                if chosen is None or p.id != chosen.id
            ],
        )
    except SQLAlchemyError:
        return None
    if request is not None:
        request.state.shell = view
    return view
