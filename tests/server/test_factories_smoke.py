"""The shared factories build a coherent household, technician and job."""

from tests.factories import in_hours, make_household, make_job, make_technician


def test_factories_make_a_dispatched_job(dispatcher):
    company, _, _ = dispatcher
    customer = make_household(company)
    tech = make_technician(company)
    job = make_job(company, customer, technician=tech, window_start=in_hours(3))
    assert job.status == "dispatched"
    assert job.version > customer.version > 0
    assert tech.certifications[0].kind == "gas_safety"
