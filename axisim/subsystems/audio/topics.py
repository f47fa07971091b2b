"""The audio subsystem's event topics (events.md §1.5 "Audio, speaker, SIP", §7).

Sources as recorded on a D4200-VE network speaker: `AudioOutput` 1 for clips,
`AudioDevice0Output0` for the output, microphone switch 0. `DeviceUUID` of a speaker
test result is the device's UUID in the Axis form `5581ad80-95b0-11e0-b883-<MAC>` (a guess).
The two MediaClip nice names are those of a published list of device declarations ("Playing",
"Currently Playing Media Clip"); the other audio topics have none in any source found.
"""

from __future__ import annotations

from axisim.events import Item, TopicDecl

CLIP_OUTPUT = 1
AUDIO_OUTPUT = "AudioDevice0Output0"
MICROPHONE_SWITCH = 0

CLIP_PLAYING = TopicDecl(
    "tnsaxis:MediaClip/Playing",
    stateful=True,
    source=(Item("AudioOutput", "xsd:int", values=((str(CLIP_OUTPUT), None),)),),
    data=(Item("Playing", key=True),),
    nice="Playing",
)
CURRENTLY_PLAYING = TopicDecl(
    "tnsaxis:MediaClip/CurrentlyPlaying",
    stateful=False,
    source=(Item("AudioOutput", "xsd:int", values=((str(CLIP_OUTPUT), None),)),),
    data=(Item("FileName", "xsd:string"),),
    nice="Currently Playing Media Clip",
)
OUTPUT_ACTIVE = TopicDecl(
    "tns1:Device/tnsaxis:AudioOutputActive",
    stateful=True,
    source=(Item("AudioOutput", "xsd:string", values=((AUDIO_OUTPUT, "Audio Device 0 Output 0"),)),),
    data=(Item("AudioOutputActive", key=True),),
)
SPEAKER_TEST_RESULT = TopicDecl(
    "tns1:Device/tnsaxis:SpeakerTest/TestResult",
    stateful=False,
    source=(Item("DeviceUUID", "xsd:string"),),
    data=(Item("SpeakerTestStatus", "xsd:string", values=(("OK", None), ("Failed", None))),),
)
MICROPHONE = TopicDecl(
    "tns1:Device/tnsaxis:Microphone/Switch",
    stateful=True,
    source=(Item("switch", "xsd:int", values=((str(MICROPHONE_SWITCH), None),)),),
    data=(Item("state", key=True),),
)
ALL = (CLIP_PLAYING, CURRENTLY_PLAYING, OUTPUT_ACTIVE, SPEAKER_TEST_RESULT, MICROPHONE)


Property = tuple[TopicDecl, dict[str, object], dict[str, object]]


def properties(playing: bool, tones: bool, microphone: bool) -> list[Property]:
    """Each property instance and its value: a clip playing, the output busy (a clip or test tones), the switch."""
    return [
        (CLIP_PLAYING, {"AudioOutput": CLIP_OUTPUT}, {"Playing": playing}),
        (OUTPUT_ACTIVE, {"AudioOutput": AUDIO_OUTPUT}, {"AudioOutputActive": playing or tones}),
        (MICROPHONE, {"switch": MICROPHONE_SWITCH}, {"state": microphone}),
    ]


def device_uuid(serial: str) -> str:
    return f"5581ad80-95b0-11e0-b883-{serial.lower()}"
