"""Assessment entry grids and their save endpoint (issue 3 §2), inside the "web" namespace."""

from django.urls import path

from hocba.web import views_grid, views_grid_save

urlpatterns = [
    path(
        "lop/<int:class_id>/mon/<str:subject>/",
        views_grid.subject_grid_default,
        name="grid_subject_default",
    ),
    path(
        "lop/<int:class_id>/mon/<str:subject>/<str:period>/",
        views_grid.subject_grid,
        name="grid_subject",
    ),
    path(
        "lop/<int:class_id>/pham-chat-nang-luc/",
        views_grid.homeroom_grid_default,
        name="grid_homeroom_default",
    ),
    path(
        "lop/<int:class_id>/pham-chat-nang-luc/<str:period>/",
        views_grid.homeroom_grid,
        name="grid_homeroom",
    ),
    path("lop/<int:class_id>/thong-tin-chung/", views_grid.facts_grid, name="grid_facts"),
    path("lop/<int:class_id>/tong-hop/", views_grid.overview, name="class_overview"),
    path("lop/<int:class_id>/o/", views_grid_save.save_cells, name="grid_save"),
]
