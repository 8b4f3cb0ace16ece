from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "jasa.projects"
    label = "projects"
