"""/api/v1/customers and the household file's parts: premises, meters, appliances, contacts (R11, R12, R15)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.customers import service
from server.customers.models import Appliance, Customer, CustomerContact, Meter, Premises
from server.customers.schemas import (
    ApplianceSchema,
    ApplianceUpdateSchema,
    CustomerArgsSchema,
    CustomerContactSchema,
    CustomerContactUpdateSchema,
    CustomerCreateSchema,
    CustomerDetailSchema,
    CustomerListItemSchema,
    CustomerUpdateSchema,
    HouseholdFileSchema,
    JobHistorySchema,
    MeterDueSchema,
    MeterSchema,
    MetersDueArgsSchema,
    MeterUpdateSchema,
    PremisesSchema,
    PremisesUpdateSchema,
    SpecialCareArgsSchema,
    SpecialCareSchema,
)
from server.errors import ApiError, not_found
from server.extensions import db
from server.org.service import today_for
from server.pagination import PageArgsSchema, like_pattern, page_of, paginate

blp = Blueprint("customers", __name__, url_prefix="/api/v1", description="The household file (一户一档)")

# Office staff read households; dispatchers (and admins, who pass every check) write them.
READERS = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)
WRITERS = (Role.DISPATCHER,)


def _commit() -> None:
    """Commit; a uniqueness race lost to a concurrent request is a 409, not a 500."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise ApiError(409, "conflict", "the change conflicts with a concurrent one; reload and retry") from None


def _customers() -> sa.Select:
    return sa.select(Customer).where(Customer.company_id == company_id(), Customer.deleted.is_(False))


def _live(model: type, ident: uuid.UUID, label: str):
    """A row of the caller's company whose household is not tombstoned either."""
    row = get_owned(model, ident, label)
    parent = row.premises if isinstance(row, Meter | Appliance) else row
    customer = parent.customer
    if getattr(parent, "deleted", False) or customer.deleted:
        raise not_found(label, ident)
    return row


@blp.route("/customers")
class Customers(MethodView):
    """Households and businesses."""

    @requires(*READERS)
    @blp.arguments(CustomerArgsSchema, location="query")
    @blp.response(200, page_of(CustomerListItemSchema))
    def get(self, args: dict):
        """Search by name, account number, phone or address (text taken literally); filter by category,
        special care (R11) and district."""
        stmt = _customers().options(selectinload(Customer.premises))
        if args.get("q"):
            pattern = like_pattern(args["q"])
            at_address = sa.select(Premises.id).where(
                Premises.customer_id == Customer.id, Premises.deleted.is_(False),
                Premises.address.ilike(pattern, escape="\\"),
            ).exists()
            stmt = stmt.where(sa.or_(
                *(col.ilike(pattern, escape="\\") for col in (Customer.name, Customer.account_no, Customer.phone)),
                at_address,
            ))
        if args.get("category"):
            stmt = stmt.where(Customer.category == args["category"])
        if "special_care" in args:
            stmt = stmt.where(Customer.special_care.is_(args["special_care"]))
        if args.get("district"):
            stmt = stmt.where(sa.select(Premises.id).where(
                Premises.customer_id == Customer.id, Premises.deleted.is_(False), Premises.district == args["district"]
            ).exists())
        return paginate(stmt.order_by(Customer.account_no, Customer.id), args)

    @requires(*WRITERS)
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerDetailSchema)
    def post(self, body: dict):
        """Open a household file, optionally with its premises (meters, appliances) and contacts."""
        customer = service.create_customer(company_id(), body)
        _commit()
        return customer


@blp.route("/customers/special-care")
class SpecialCareRegister(MethodView):
    """The special-care register (R11)."""

    @requires(*READERS)
    @blp.arguments(SpecialCareArgsSchema, location="query")
    @blp.response(200, page_of(SpecialCareSchema))
    def get(self, args: dict):
        """Elderly, frail, sick and disabled customers with the reason and the people to call, by district."""
        stmt = _customers().where(Customer.special_care.is_(True)).options(
            selectinload(Customer.premises), selectinload(Customer.contacts)
        )
        if args.get("district"):
            stmt = stmt.where(sa.select(Premises.id).where(
                Premises.customer_id == Customer.id, Premises.deleted.is_(False), Premises.district == args["district"]
            ).exists())
        return paginate(stmt.order_by(Customer.account_no, Customer.id), args)


@blp.route("/customers/<uuid:customer_id>")
class CustomerById(MethodView):
    """One household file."""

    @requires(*READERS, Role.TECHNICIAN)
    @blp.response(200, HouseholdFileSchema)
    def get(self, customer_id: uuid.UUID):
        """The whole household file: premises with meters and appliances, contacts, and the history.

        A technician reads only the households of their open jobs (what their tablet holds).
        """
        customer = get_owned(Customer, customer_id, "customer")
        user = current_user()
        if user.role == Role.TECHNICIAN and not service.technician_may_read(customer, user.id):
            raise ApiError(403, "out_of_scope", "a technician reads only the households of their open jobs")
        return service.household_file(customer)

    @requires(*WRITERS)
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerDetailSchema)
    def patch(self, body: dict, customer_id: uuid.UUID):
        """Change the customer's own fields (name, category, phone, special care…)."""
        customer = service.update_customer(get_owned(Customer, customer_id, "customer"), body)
        _commit()
        return customer


@blp.route("/customers/<uuid:customer_id>/jobs")
class CustomerJobs(MethodView):
    """Every job at a household."""

    @requires(*READERS)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(JobHistorySchema))
    def get(self, args: dict, customer_id: uuid.UUID):
        """The household's jobs, the most recent first."""
        return paginate(service.jobs_stmt(get_owned(Customer, customer_id, "customer")), args)


@blp.route("/customers/<uuid:customer_id>/premises")
class CustomerPremises(MethodView):
    """Add premises to a household."""

    @requires(*WRITERS)
    @blp.arguments(PremisesSchema)
    @blp.response(201, PremisesSchema)
    def post(self, body: dict, customer_id: uuid.UUID):
        """Another address supplied to the customer, with its meters and appliances."""
        premises = service.add_premises(get_owned(Customer, customer_id, "customer"), body)
        _commit()
        return premises


@blp.route("/premises/<uuid:premises_id>")
class PremisesById(MethodView):
    """One premises."""

    @requires(*WRITERS)
    @blp.arguments(PremisesUpdateSchema)
    @blp.response(200, PremisesSchema)
    def patch(self, body: dict, premises_id: uuid.UUID):
        """Change the address, district, coordinates or access notes."""
        premises = service.apply(_live(Premises, premises_id, "premises"), body)
        _commit()
        return premises


@blp.route("/premises/<uuid:premises_id>/meters")
class PremisesMeters(MethodView):
    """Install a meter."""

    @requires(*WRITERS)
    @blp.arguments(MeterSchema)
    @blp.response(201, MeterSchema)
    def post(self, body: dict, premises_id: uuid.UUID):
        """Record a meter at the premises with its verification due date (R15)."""
        meter = service.add_meter(_live(Premises, premises_id, "premises"), body)
        _commit()
        return meter


@blp.route("/meters/due-for-calibration")
class MetersDue(MethodView):
    """Meters due for verification (R15)."""

    @requires(*READERS)
    @blp.arguments(MetersDueArgsSchema, location="query")
    @blp.response(200, page_of(MeterDueSchema))
    def get(self, args: dict):
        """Meters in service that are overdue or due within ``within_days`` days, soonest first."""
        stmt = service.meters_due_stmt(company_id(), today_for(company_id()), args["within_days"],
                                       args.get("district"))
        return paginate(stmt, args)


@blp.route("/meters/<uuid:meter_id>")
class MeterById(MethodView):
    """One meter."""

    @requires(*WRITERS)
    @blp.arguments(MeterUpdateSchema)
    @blp.response(200, MeterSchema)
    def patch(self, body: dict, meter_id: uuid.UUID):
        """Change a meter: a new due date after verification, a fault, a removal."""
        meter = service.update_meter(_live(Meter, meter_id, "meter"), body)
        _commit()
        return meter


@blp.route("/premises/<uuid:premises_id>/appliances")
class PremisesAppliances(MethodView):
    """Record an appliance."""

    @requires(*WRITERS)
    @blp.arguments(ApplianceSchema)
    @blp.response(201, ApplianceSchema)
    def post(self, body: dict, premises_id: uuid.UUID):
        """A gas appliance at the premises."""
        premises = _live(Premises, premises_id, "premises")
        appliance = Appliance(company_id=premises.company_id, premises_id=premises.id, **body)
        db.session.add(appliance)
        _commit()
        return appliance


@blp.route("/appliances/<uuid:appliance_id>")
class ApplianceById(MethodView):
    """One appliance."""

    @requires(*WRITERS)
    @blp.arguments(ApplianceUpdateSchema)
    @blp.response(200, ApplianceSchema)
    def patch(self, body: dict, appliance_id: uuid.UUID):
        """Change an appliance's details."""
        appliance = service.apply(_live(Appliance, appliance_id, "appliance"), body)
        _commit()
        return appliance

    @requires(*WRITERS)
    @blp.response(204)
    def delete(self, appliance_id: uuid.UUID):
        """The appliance is gone (a tombstone: tablets learn it too)."""
        service.tombstone(_live(Appliance, appliance_id, "appliance"))
        _commit()


@blp.route("/customers/<uuid:customer_id>/contacts")
class CustomerContacts(MethodView):
    """Add a contact person."""

    @requires(*WRITERS)
    @blp.arguments(CustomerContactSchema)
    @blp.response(201, CustomerContactSchema)
    def post(self, body: dict, customer_id: uuid.UUID):
        """Another person to call about the customer."""
        customer = get_owned(Customer, customer_id, "customer")
        contact = CustomerContact(company_id=customer.company_id, customer_id=customer.id, **body)
        db.session.add(contact)
        _commit()
        return contact


@blp.route("/contacts/<uuid:contact_id>")
class ContactById(MethodView):
    """One contact."""

    @requires(*WRITERS)
    @blp.arguments(CustomerContactUpdateSchema)
    @blp.response(200, CustomerContactSchema)
    def patch(self, body: dict, contact_id: uuid.UUID):
        """Change a contact's name, phone or relation."""
        contact = service.apply(_live(CustomerContact, contact_id, "contact"), body)
        _commit()
        return contact

    @requires(*WRITERS)
    @blp.response(204)
    def delete(self, contact_id: uuid.UUID):
        """Remove a contact (a tombstone)."""
        service.tombstone(_live(CustomerContact, contact_id, "contact"))
        _commit()
