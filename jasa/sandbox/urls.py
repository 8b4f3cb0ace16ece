from django.urls import path

from jasa.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("sandbox/checkout/<str:ref>/", views.checkout, name="checkout"),
    path("sandbox/checkout/<str:ref>/method/", views.choose_method, name="choose_method"),
    path("sandbox/checkout/<str:ref>/card/", views.pay_card, name="card"),
    path("sandbox/checkout/<str:ref>/3ds/", views.submit_otp, name="otp"),
    path("sandbox/checkout/<str:ref>/ewallet/", views.ewallet, name="ewallet"),
    path("sandbox/checkout/<str:ref>/simulate/", views.simulate, name="simulate"),
    path("sandbox/qr/<str:ref>.png", views.qr_png, name="qr"),
    path("sandbox/simulator/", views.simulator, name="simulator"),
    path("sandbox/faults/", views.faults, name="faults"),
]
