"""Extensions created unbound here and bound to an app in create_app()."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from pipeline.core.models import Base
from pipeline.core.schemas import ErrorSchema


class PipelineApi(Api):
    """flask-smorest's Api, documenting our one error shape."""

    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
api = PipelineApi()
