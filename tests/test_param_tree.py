"""Unit tests of the parameter tree: definitions, patterns, overlay, serializations."""

from __future__ import annotations

import pytest

from param_tree import (
    ModelTree,
    ParamStore,
    Role,
    UpdateError,
    parse_definitions,
    parse_group_list,
    parse_templates,
    render_definitions,
    render_list,
)
from param_tree.definitions import nice_name_of

DOC = b"""<?xml version="1.0" encoding="iso-8859-1" ?>
<parameterDefinitions
xmlns="http://www.axis.com/ParameterDefinitionsSchema"
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xsi:schemaLocation="http://www.axis.com/ParameterDefinitionsSchema http://192.168.0.90/pub/parameterdefinitions.xsd"
version="1.0">
  <model>AXIS T1</model>
  <firmwareVersion>12.6.94</firmwareVersion>
  <group name="root">
    <group name="Brand">
      <parameter name="ProdNbr" value="T1" securityLevel="7707" niceName="Prod nbr">
        <type readonly="true" const="true">
          <string />
        </type>
      </parameter>
      <parameter name="Brand" value="AXIS" securityLevel="7707" niceName="Brand">
        <type readonly="true" const="true">
          <string />
        </type>
      </parameter>
    </group>
    <group name="Network">
      <group name="SSH">
        <parameter name="Enabled" value="no" securityLevel="7766" niceName="Enabled">
          <type>
            <bool true="yes" false="no" />
          </type>
        </parameter>
      </group>
      <parameter name="tcpECN" value="1" securityLevel="7766" niceName="Tcp ECN">
        <type>
          <int min="0" max="2" />
        </type>
      </parameter>
      <parameter name="HostName" value="axis-b8a44f000000" securityLevel="7766" niceName="Host name">
        <type>
          <string maxlen="63" />
        </type>
      </parameter>
      <parameter name="BootProto" value="dhcp" securityLevel="7766" niceName="Boot protocol">
        <type>
          <enum>
            <entry value="dhcp" niceValue="DHCP" />
            <entry value="none" />
          </enum>
        </type>
      </parameter>
      <group name="RTSP">
        <parameter name="Port" value="554" securityLevel="7716" niceName="Port">
          <type>
            <int>
              <rangeEntry value="554" />
              <rangeEntry value="1024-65535" />
            </int>
          </type>
        </parameter>
      </group>
      <parameter name="DNSServer1" value="0.0.0.0" securityLevel="7766" niceName="DNS server 1">
        <type>
          <ip />
        </type>
      </parameter>
    </group>
    <group name="SNMP">
      <parameter name="Password" value="secret" securityLevel="7766" niceName="Password">
        <type writeonly="true">
          <password maxlen="16" />
        </type>
      </parameter>
      <parameter name="Community" value="public" securityLevel="7744" niceName="Community">
        <type>
          <string maxlen="32" />
        </type>
      </parameter>
    </group>
    <group name="MediaClip">
      <parameter name="MaxGroups" value="2" securityLevel="7717" niceName="Max groups">
        <type hidden="true" readonly="true">
          <int />
        </type>
      </parameter>
      <group name="M9">
        <parameter name="Name" value="Camera clicks" securityLevel="4414" niceName="Name">
          <type>
            <string maxlen="64" />
          </type>
        </parameter>
      </group>
    </group>
  </group>
</parameterDefinitions>
"""

TEMPLATES = b"""<?xml version="1.0" encoding="iso-8859-1" ?>
<templates>
  <template name="mediaclip" group="MediaClip" maxGroups="MediaClip.MaxGroups">
    <parameter name="Name" value="" securityLevel="4414" niceName="Name">
      <type>
        <string maxlen="64" />
      </type>
    </parameter>
  </template>
</templates>
"""


@pytest.fixture
def model() -> ModelTree:
    return ModelTree(parse_definitions(DOC).definitions, parse_templates(TEMPLATES))


@pytest.fixture
def store(model: ModelTree) -> ParamStore:
    return ParamStore(model, {"Network.HostName": "axis-b8a44f123456"})


def listing(store: ParamStore, groups: str, role: Role = Role.ADMIN) -> str:
    return render_list(store, parse_group_list(groups), role)


def test_list_order_is_case_insensitive_with_parameters_before_subgroups(store: ParamStore) -> None:
    # param-trees.md §2: AXIS OS 9+ sorts case-insensitively, parameters before sub-groups
    names = [d.name for d in store.all()]
    assert names[:2] == ["Brand.Brand", "Brand.ProdNbr"]
    network = [n for n in names if n.startswith("Network.")]
    assert network == [
        "Network.BootProto",
        "Network.DNSServer1",
        "Network.HostName",
        "Network.tcpECN",
        "Network.RTSP.Port",
        "Network.SSH.Enabled",
    ]


def test_root_prefix_is_echoed_as_requested(store: ParamStore) -> None:
    # vapix-wire.md §1.1 [REC]: output mirrors the request's root. prefix; LF lines, trailing LF
    assert listing(store, "root.Brand") == "root.Brand.Brand=AXIS\nroot.Brand.ProdNbr=T1\n"
    assert listing(store, "Brand") == "Brand.Brand=AXIS\nBrand.ProdNbr=T1\n"
    assert listing(store, "root.Network.SSH.Enabled") == "root.Network.SSH.Enabled=no\n"


def test_comma_lists_concatenate_in_request_order(store: ParamStore) -> None:
    body = listing(store, "root.Network.SSH,Brand.ProdNbr")
    assert body == "root.Network.SSH.Enabled=no\nBrand.ProdNbr=T1\n"


def test_unknown_group_is_an_error_line_with_the_group_as_requested(store: ParamStore) -> None:
    # vapix-wire.md §1.1 [REC]
    assert listing(store, "Properties.Image.Resolution") == (
        "# Error: Error -1 getting param in group 'Properties.Image.Resolution'\n"
    )
    mixed = listing(store, "root.Brand.Brand,root.Nope")
    assert mixed == "root.Brand.Brand=AXIS\n# Error: Error -1 getting param in group 'root.Nope'\n"
    assert listing(store, "root.Brand.") == "# Error: Error -1 getting param in group 'root.Brand.'\n"


def test_wildcards_within_segments(store: ParamStore) -> None:
    assert listing(store, "root.*.SSH.Enabled") == "root.Network.SSH.Enabled=no\n"
    assert listing(store, "MediaClip.M*.Name") == "MediaClip.M9.Name=Camera clicks\n"
    assert listing(store, "Brand.Prod*") == "Brand.ProdNbr=T1\n"


def test_identity_layer_and_secret_masking(store: ParamStore) -> None:
    assert listing(store, "Network.HostName") == "Network.HostName=axis-b8a44f123456\n"
    assert listing(store, "SNMP.Password") == "SNMP.Password=******\n"
    assert store.value("SNMP.Password") == "secret"


def test_role_filters_what_is_listed(store: ParamStore) -> None:
    # SNMP.Community reads at operator (7744), Brand at anyone (7707)
    assert listing(store, "SNMP", Role.VIEWER) == "# Error: Error -1 getting param in group 'SNMP'\n"
    assert listing(store, "SNMP", Role.OPERATOR) == "SNMP.Community=public\n"


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("Network.SSH.Enabled", "yes", True),
        ("Network.SSH.Enabled", "true", False),  # this parameter's own bool words only
        ("Network.tcpECN", "2", True),
        ("Network.tcpECN", "3", False),
        ("Network.tcpECN", "1.5", False),
        ("Network.tcpECN", "", False),
        ("Network.BootProto", "none", True),
        ("Network.BootProto", "static", False),
        ("Network.RTSP.Port", "554", True),
        ("Network.RTSP.Port", "1023", False),
        ("Network.RTSP.Port", "8554", True),
        ("Network.HostName", "a" * 63, True),
        ("Network.HostName", "a" * 64, False),
        ("Network.HostName", "bad\nname", False),
        ("Network.HostName", "bad\udce9", False),  # undecodable byte kept as a surrogate escape
        ("Network.DNSServer1", "10.0.0.1", True),
        ("Network.DNSServer1", "10.0.0.256", False),
        ("SNMP.Password", "x" * 16, True),
        ("SNMP.Password", "x" * 17, False),
        ("Brand.ProdNbr", "T2", False),  # readonly const
        ("MediaClip.MaxGroups", "5", False),  # readonly
        ("No.Such", "x", False),
    ],
)
def test_update_validation(store: ParamStore, name: str, value: str, ok: bool) -> None:
    applied, refused = store.update([(name, value)], Role.ADMIN)
    assert (name in applied) is ok
    assert (refused == []) is ok


def test_update_applies_valid_changes_and_refuses_the_rest(store: ParamStore) -> None:
    applied, refused = store.update([("root.Network.SSH.Enabled", "yes"), ("Network.tcpECN", "9")], Role.ADMIN)
    assert applied == {"Network.SSH.Enabled": "yes"}
    assert refused == [("Network.tcpECN", "9")]
    assert store.value("Network.SSH.Enabled") == "yes"
    assert store.value("Network.tcpECN") == "1"


def test_write_level_is_enforced(store: ParamStore) -> None:
    _, refused = store.update([("Network.SSH.Enabled", "yes")], Role.OPERATOR)  # 7766: admin writes
    assert refused == [("Network.SSH.Enabled", "yes")]
    applied, _ = store.update([("SNMP.Community", "c2")], Role.OPERATOR)  # 7744
    assert applied == {"SNMP.Community": "c2"}


def test_model_is_shared_and_untouched_by_device_changes(model: ModelTree) -> None:
    first, second = ParamStore(model), ParamStore(model)
    first.update([("Network.SSH.Enabled", "yes")], Role.ADMIN)
    assert second.value("Network.SSH.Enabled") == "no"
    assert model.definition("Network.SSH.Enabled").value == "no"
    # writing the factory value back leaves no overlay entry
    first.update([("Network.SSH.Enabled", "no")], Role.ADMIN)
    assert first.changes()["values"] == {}


def test_add_and_remove_dynamic_groups_with_max_groups(store: ParamStore) -> None:
    key = store.add_group("mediaclip", "MediaClip", Role.OPERATOR)
    assert key == "M0"
    store.update([("MediaClip.M0.Name", "Doorbell")], Role.OPERATOR)
    assert listing(store, "MediaClip.M*.Name") == "MediaClip.M0.Name=Doorbell\nMediaClip.M9.Name=Camera clicks\n"
    with pytest.raises(UpdateError):  # MaxGroups=2: M0 and M9 exist
        store.add_group("mediaclip", "MediaClip", Role.OPERATOR)
    assert store.add_group("mediaclip", "MediaClip", Role.OPERATOR, force=True) == "M1"
    with pytest.raises(UpdateError):  # all or nothing: Network.SSH is no dynamic group
        store.remove_groups(["MediaClip.M9", "Network.SSH"], Role.OPERATOR)
    assert "MediaClip.M9.Name" in store
    store.remove_groups(["MediaClip.M9", "MediaClip.M0", "MediaClip.M0"], Role.OPERATOR)
    assert store.changes()["removed"] == ["MediaClip.M9.Name"]  # M0 was added, so it is simply gone
    assert [d.name for d in store.select_exact("MediaClip")] == ["MediaClip.MaxGroups", "MediaClip.M1.Name"]
    with pytest.raises(UpdateError):
        store.remove_groups(["Network.SSH"], Role.ADMIN)
    with pytest.raises(UpdateError):
        store.add_group("nosuch", "MediaClip", Role.ADMIN)


def test_reset_returns_to_factory(store: ParamStore) -> None:
    store.update([("Network.SSH.Enabled", "yes"), ("Network.BootProto", "none")], Role.ADMIN)
    store.add_group("mediaclip", "MediaClip", Role.ADMIN)
    store.reset(keep=["Network.BootProto"])
    assert store.value("Network.SSH.Enabled") == "no"
    assert store.value("Network.BootProto") == "none"
    assert "MediaClip.M0.Name" not in store


def test_listdefinitions_round_trip(store: ParamStore, model: ModelTree) -> None:
    # loading what listdefinitions serves gives the same tree (vapix-wire.md §1.5)
    body = render_definitions(
        ((d, d.type.display(store.value(d.name))) for d in store.all()),
        model="AXIS T1",
        firmware="12.6.94",
        host="10.0.0.5",
    )
    again = parse_definitions(body)
    assert again.model == "AXIS T1" and again.firmware == "12.6.94"
    original = {d.name: d for d in model.definitions}
    for definition in again.definitions:
        source = original[definition.name]
        assert definition.type == source.type
        assert definition.security == source.security
        assert definition.nice_name == source.nice_name
    assert {d.name for d in again.definitions} == set(original)
    assert b'http://10.0.0.5/pub/parameterdefinitions.xsd"' in body


def test_listdefinitions_layout_matches_real_devices(store: ParamStore) -> None:
    # vapix-wire.md §1.5 [REC]: attributes on separate lines, two-space indent, "<tag />"
    items = [(d, store.value(d.name)) for d in store.select_exact("Network.SSH")]
    body = render_definitions(items, model="AXIS T1", firmware="12.6.94", host="192.168.0.90").decode("iso-8859-1")
    assert body == (
        '<?xml version="1.0" encoding="iso-8859-1" ?>\n'
        "<parameterDefinitions\n"
        'xmlns="http://www.axis.com/ParameterDefinitionsSchema"\n'
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
        'xsi:schemaLocation="http://www.axis.com/ParameterDefinitionsSchema '
        'http://192.168.0.90/pub/parameterdefinitions.xsd"\n'
        'version="1.0">\n'
        "  <model>AXIS T1</model>\n"
        "  <firmwareVersion>12.6.94</firmwareVersion>\n"
        '  <group name="root">\n'
        '    <group name="Network">\n'
        '      <group name="SSH">\n'
        '        <parameter name="Enabled" value="no" securityLevel="7766" niceName="Enabled">\n'
        "          <type>\n"
        '            <bool true="yes" false="no" />\n'
        "          </type>\n"
        "        </parameter>\n"
        "      </group>\n"
        "    </group>\n"
        "  </group>\n"
        "</parameterDefinitions>\n"
    )


def test_nice_names_follow_axis_generation() -> None:
    # vapix-wire.md §1.5 [REC]: "ProdFullName" -> "Prod full name"
    assert nice_name_of("ProdFullName") == "Prod full name"
    assert nice_name_of("MaxGroups") == "Max groups"
