import pytest


@pytest.mark.django_db
def test_the_sign_in_page_renders_with_labelled_fields(client):
    response = client.get("/auth/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label for="id_username">Email or username</label>' in body
    assert '<label for="id_password">Password</label>' in body


@pytest.mark.django_db
def test_a_verified_user_signs_in_with_any_case_of_the_username(client, alice, password):
    response = client.post("/auth/login/", {"username": "ALICE", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
