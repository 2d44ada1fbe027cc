def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_staff_sees_home(login):
    client = login("staff")
    response = client.get("/")
    assert response.status_code == 200
    assert "土左旗科技特派员工作站" in response.get_data(as_text=True)
