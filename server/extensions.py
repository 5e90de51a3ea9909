"""Extensions, created unbound and bound to the app in create_app()."""

from flask_sqlalchemy import SQLAlchemy

from server.db import Base
from server.errors import FieldsyncApi

db = SQLAlchemy(model_class=Base)
api = FieldsyncApi()
