"""The speaker's audio side: media clips and their playback, and the speaker test.

Clips are the `MediaClip.M#` parameter groups (the model's preinstalled clips, user
clips from M0 up); an uploaded clip's file is kept in the device's FileStore, a
preinstalled one's is generated. Playback is timed by the device clock: a clip
plays its duration once, `repeat` more times, or forever (-1). While a clip plays,
a new play request is dropped (observed on real speakers, vapix-wire.md §6.4 and
the media clip research: "a clip already sounding wins").

Speaker test (C1410 Mk II manual, "Calibrate and run a remote speaker test"; the
auto speaker test API `axast`): calibrate, then run the test, each taking a few
seconds of test tones; the result (passed or failed) is chosen through the Python
API, the built-in microphone must be switched on, and a factory default forgets
the calibration (it must be redone in the mounted position).
"""

from __future__ import annotations

import fnmatch
import random
import re
from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from axisim.events import Event, TopicDecl
from axisim.files import is_digest
from axisim.lifecycle import RestartKind
from param_tree import ParamDef, Role, UpdateError, whole_number

from ..base import Subsystem
from ..service_faults import RefusalKind, ServiceRefused
from ..stimuli import stimulus
from . import formats as audio_formats
from . import params as audio_params
from . import topics
from .formats import ClipFormatError, SoundFile
from .state import ClipError, Playback, SpeakerTestReport, Upload, by, integer, optional

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView

CLIPS = "MediaClip"
CLIP_DIR = "/etc/audioclips/"
DEFAULT_UPLOAD_MB = 1.5  # media clip API: "If this parameter is missing, the maximum upload size is 1.5 MB"
TEST_SECONDS = 8.0  # a series of test tones
PRESET_SECONDS = {"camera_clicks16k.au": 1.0, "camera_clicks.mp3": 1.0}
PRESET_DEFAULT_SECONDS = 4.0
_SAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")  # file names keep spaces: clients play by location


class AudioSubsystem(Subsystem):
    name = "audio"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus("someone presses the control button")
    def physical_press_button(self) -> dict[str, Any]:
        self.press_control_button()
        return {}

    @stimulus("the microphone switch is set", on=bool)
    def physical_microphone_switch(self, on: bool) -> dict[str, Any]:
        self.set_microphone_switch(on)
        return {}

    @stimulus("whether the next speaker test passes", passes=bool)
    def physical_speaker_test_result(self, passes: bool) -> dict[str, Any]:
        self.set_speaker_test_result(passes)
        return {}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        return audio_params.definitions()

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.uploads: dict[int, Upload] = {}
        self.playing: Playback | None = None
        self.microphone_on = True  # the microphone disable switch, ON from the factory
        self.test_passes = True  # what the next speaker test finds
        self.test_status = "Uncalibrated"
        self.calibrated_at: float | None = None  # wall time
        self.tested_at: float | None = None
        self.pending: tuple[str, float] | None = None  # ("calibrate" | "test", SimClock end)
        self.dropped = 0  # play requests dropped while a clip played
        self.told: dict[str, bool] = {}  # what the bus was last told of each property (topic -> state)
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)
        self._publish_params()

    # -- clips -------------------------------------------------------------------------

    def clip_numbers(self) -> list[int]:
        template = self.device.params.model.templates.get("mediaclip")
        return sorted(self.device.params.instance_numbers(template)) if template else []

    def clip_param(self, number: int, name: str) -> str:
        return self.device.params.value(f"{CLIPS}.M{number}.{name}")

    def _number(self, clip: str | int | None) -> int:
        text = str(clip) if clip is not None else ""
        number = whole_number(text)
        if number is None or number not in self.clip_numbers():
            raise ClipError("Invalid clip" if text else "Missing parameter: clip")
        return number

    def sound(self, number: int) -> tuple[bytes, SoundFile]:
        """The clip's file and what is in it; ClipError when the clip has none."""
        upload = self.uploads.get(number)
        if upload is not None:
            data = self.device.files.get(upload.digest)
            if data is None:
                raise ClipError("The clip's file is missing")
            return data, upload.sound
        location = self.clip_param(number, "Location")
        if not location.startswith(CLIP_DIR) or f"{CLIPS}.M{number}.Name" not in self.device.params.model:
            raise ClipError("The clip has no file")
        filename = location[len(CLIP_DIR) :]
        seconds = PRESET_SECONDS.get(filename, PRESET_DEFAULT_SECONDS)
        data = audio_formats.silent_au(seconds) if filename.endswith(".au") else audio_formats.silent_mp3(seconds)
        return data, audio_formats.inspect(data, filename)

    def play(self, clip: str | int | None = None, *, location: str | None = None, repeat: str | int = 0,
             volume: str | int = 100, actor: Actor | None = None) -> int:  # fmt: skip
        """Start a clip; returns its number. ClipError for a bad request (nothing changes)."""
        self.tick()
        number = self._by_location(location) if location else self._number(clip)
        repeats = integer(repeat, "repeat", -1, None)
        level = integer(volume, "volume", 0, 1000)
        _, sound = self.sound(number)
        if self.playing is not None:
            self.dropped += 1  # the clip already sounding wins
            self._event(f"Media clip {number} not played: clip {self.playing.clip} is playing")
            return number
        self.playing = Playback(number, repeats, level, self.device.clock.now(), max(sound.duration, 0.01))
        file_name = self.clip_param(number, "Location").rsplit("/", 1)[-1]
        self.publish(topics.CURRENTLY_PLAYING, {"AudioOutput": topics.CLIP_OUTPUT}, {"FileName": file_name})
        self._event(
            f"Media clip {number} ({self.clip_param(number, 'Name')}) playing, repeat {repeats}, volume {level}"
        )
        self._publish_params()
        self._arm()
        return number

    def _by_location(self, location: str) -> int:
        """`location=ding_dong.mp3` (or a pattern with *) names a clip by its file name."""
        matches = [
            n for n in self.clip_numbers()
            if fnmatch.fnmatchcase(self.clip_param(n, "Location").rsplit("/", 1)[-1], location.rsplit("/", 1)[-1])
        ]  # fmt: skip
        if not matches:
            raise ClipError("Invalid location")
        return random.choice(matches) if "*" in location else matches[0]

    def stop(self) -> None:
        if self.playing is not None:
            self._event(f"Media clip {self.playing.clip} stopped")
            self.playing = None
            self._publish_params()
            self._arm()

    def upload(self, data: bytes, filename: str, name: str | None = None, actor: Actor | None = None) -> int:
        """Add a clip from an uploaded file; its number. ClipError: too large, not playable, no room."""
        if len(data) > self.max_upload_bytes():
            raise ClipError(f"File too large (maximum {self.device.param(f'{CLIPS}.MaxUploadSize')} MB)")
        try:
            sound = audio_formats.inspect(data, filename)
        except ClipFormatError as exc:
            raise ClipError(f"Invalid file: {exc}") from exc
        bare = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]  # browsers may send a full path
        label = name if name is not None else (bare.rsplit(".", 1)[0] or bare)
        template = self.device.params.model.templates["mediaclip"]
        name_type = next(d.type for d in template.params if d.name == "Name")
        if not label or not name_type.accepts(label):
            raise ClipError("Invalid name")
        try:
            key = self.device.add_group("mediaclip", CLIPS, Role.ADMIN, **by(actor))
        except UpdateError as exc:
            raise ClipError(f"No room for another clip ({exc})") from exc
        number = int(key[1:])
        stored = self._file_name(number, filename, sound.format)
        self.uploads[number] = Upload(self.device.files.put(data), sound, stored)
        self.device.params.set_values({f"{CLIPS}.M{number}.Location": CLIP_DIR + stored})
        self.device.update_params([(f"{CLIPS}.M{number}.Name", label)], Role.ADMIN, **by(actor))
        self._event(f"Media clip {number} uploaded: {stored}, {sound.format}, {sound.duration:.1f} s")
        self.device.changed()
        return number

    def _file_name(self, number: int, filename: str, kind: str) -> str:
        base = _SAFE_NAME.sub("_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
        taken = {self.clip_param(n, "Location") for n in self.clip_numbers() if n != number}
        if not base or CLIP_DIR + base in taken:
            base = f"{CLIPS}.M{number}.{kind}"
        return base

    def max_upload_bytes(self) -> int:
        text = self.device.param(f"{CLIPS}.MaxUploadSize")
        megabytes = whole_number(text)
        return int((DEFAULT_UPLOAD_MB if megabytes is None else megabytes) * 1024 * 1024)

    def remove(self, clip: str | int | None, actor: Actor | None = None) -> int:
        number = self._number(clip)
        try:
            self.device.remove_groups([f"{CLIPS}.M{number}"], Role.ADMIN, **by(actor))
        except UpdateError as exc:
            raise ClipError(str(exc)) from exc
        return number

    def rename(self, clip: str | int | None, name: str | None, actor: Actor | None = None) -> int:
        number = self._number(clip)
        if name is None:
            raise ClipError("Missing parameter: name")
        refused = self.device.update_params([(f"{CLIPS}.M{number}.Name", name)], Role.ADMIN, **by(actor))
        if refused:
            raise ClipError("Invalid name")
        return number

    def download(self, clip: str | int | None) -> tuple[bytes, str, str]:
        """(file, content type, file name) of a clip."""
        number = self._number(clip)
        data, sound = self.sound(number)
        return data, sound.content_type, self.clip_param(number, "Location").rsplit("/", 1)[-1]

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is not None and not any(n.startswith(f"{CLIPS}.") for n in applied):
            return
        present = set(self.clip_numbers())
        for number in [n for n in self.uploads if n not in present]:
            upload = self.uploads.pop(number)
            if all(u.digest != upload.digest for u in self.uploads.values()):
                self.device.files.discard(upload.digest)
        if self.playing is not None and self.playing.clip not in present:
            self.stop()
        self._publish_params()

    # -- speaker test ---------------------------------------------------------------------

    def calibrate(self) -> None:
        """Play the test tones and register them (Calibrate, or the control button)."""
        self._check_microphone()
        self.calibrated_at, self.tested_at = None, None
        self._play_tones("calibrate", "Speaker test: calibrating")

    def run_test(self) -> None:
        """Play the test tones again and compare them with the calibration (Run the test)."""
        self._check_microphone()
        if self.calibrated_at is None or (self.pending and self.pending[0] == "calibrate"):
            reason = "The Auto Speaker Test cannot be done without prior calibration."
            raise ServiceRefused(RefusalKind.NOT_CALIBRATED, reason)
        self._play_tones("test", "Speaker test: running")

    def _check_microphone(self) -> None:
        self.tick()
        if not self.microphone_on:
            raise ServiceRefused(RefusalKind.MICROPHONE_OFF, "The built-in microphone is disabled.")

    def _play_tones(self, step: str, message: str) -> None:
        """Calibration and test alike: the tones play for TEST_SECONDS, then tick() records the outcome."""
        self.pending = (step, self.device.clock.now() + TEST_SECONDS)
        self.test_status = "Pending"
        self._event(message)
        self._publish_params()
        self._arm()

    def press_control_button(self) -> None:
        """Pressing and releasing the control button calibrates the speaker test (manual, "Buttons")."""
        self.calibrate()

    def set_microphone_switch(self, on: bool) -> None:
        self.microphone_on = on
        self._event(f"Microphone switch {'ON' if on else 'OFF'}")
        self._publish_params()
        self.device.changed()

    def set_speaker_test_result(self, passes: bool) -> None:
        """What the next speaker tests find: the speaker works (True) or not."""
        self.test_passes = passes
        self.device.changed()

    def speaker_test_report(self) -> SpeakerTestReport:
        self.tick()
        return self._report()

    def _report(self) -> SpeakerTestReport:
        status = self.test_status
        if not self.microphone_on and status != "Pending":
            status = "DisabledInHardware"
        return SpeakerTestReport(status, self.tested_at, self.calibrated_at)

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.device.clock.now()
        changed = False
        if self.playing is not None:
            ends = self.playing.ends()
            if ends is not None and now >= ends:
                self._event(f"Media clip {self.playing.clip} finished")
                self.playing = None
                changed = True
        if self.pending is not None and now >= self.pending[1]:
            what, ended = self.pending
            wall = self.device.clock.wall() - (now - ended)
            self.pending = None
            if what == "calibrate":
                self.test_status, self.calibrated_at = "Calibrated", wall
            else:
                self.test_status, self.tested_at = ("OK" if self.test_passes else "Failed"), wall
                self.publish(
                    topics.SPEAKER_TEST_RESULT, {"DeviceUUID": topics.device_uuid(self.device.serial)},
                    {"SpeakerTestStatus": self.test_status},
                )  # fmt: skip
            self._event(f"Speaker test: {self.test_status}")
            changed = True
            self.device.changed()
        if changed:
            self._publish_params()
        self._arm()

    def _arm(self) -> None:
        deadlines = [self.playing.ends() if self.playing else None, self.pending[1] if self.pending else None]
        self._timer.arm(min((d for d in deadlines if d is not None), default=None))

    def _publish_params(self) -> None:
        playing = self.playing
        report = self._report()  # not speaker_test_report(): tick() publishes, it must not re-enter
        values = audio_params.status_values(playing, report)
        self.device.params.set_base(values)
        for decl, source, data in self._properties():
            state = bool(next(iter(data.values())))
            if self.told.get(decl.topic) != state:
                self.told[decl.topic] = state
                self.publish(decl, source, data)

    def _properties(self) -> list[tuple[TopicDecl, dict[str, object], dict[str, object]]]:
        return topics.properties(self.playing is not None, self.pending is not None, self.microphone_on)

    def topics(self) -> list[TopicDecl]:
        return list(topics.ALL)

    def states(self) -> list[Event]:
        return [self.state_of(decl, source, data) for decl, source, data in self._properties()]

    def _event(self, message: str) -> None:
        self.device.logs.system_event(message, source="audio")

    # -- restarts and persistence -------------------------------------------------------

    def _settled_status(self) -> str:
        """The status once an interrupted calibration or test is forgotten."""
        if self.test_status != "Pending":
            return self.test_status
        return "Calibrated" if self.calibrated_at is not None else "Uncalibrated"

    def going_down(self, kind: RestartKind) -> None:
        self.test_status = self._settled_status()
        self.playing, self.pending = None, None
        if kind is not RestartKind.REBOOT:
            self.test_status, self.calibrated_at, self.tested_at = "Uncalibrated", None, None
        self._publish_params()

    def booted(self) -> None:
        self.params_changed(None)

    def to_state(self) -> Any:
        return {
            "uploads": {str(n): {"digest": u.digest, "filename": u.filename} for n, u in sorted(self.uploads.items())},
            "microphone_on": self.microphone_on,
            "test_passes": self.test_passes,
            "test_status": self._settled_status(),
            "calibrated_at": self.calibrated_at,
            "tested_at": self.tested_at,
        }

    def load_state(self, state: Any) -> None:
        if state is None:
            return
        try:
            uploads = {}
            for number, entry in state["uploads"].items():
                digest, filename = entry["digest"], str(entry["filename"])
                data = self.device.files.get(digest) if is_digest(digest) else None
                if data is None:
                    raise ValueError(f"clip {number}: file {digest!r} is missing")
                uploads[int(number)] = Upload(digest, audio_formats.inspect(data, filename), filename)
            status = str(state["test_status"])
            calibrated, tested = optional(state["calibrated_at"]), optional(state["tested_at"])
            microphone, passes = bool(state["microphone_on"]), bool(state["test_passes"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"audio: {exc}") from exc
        self.uploads, self.test_status, self.calibrated_at, self.tested_at = uploads, status, calibrated, tested
        self.microphone_on, self.test_passes = microphone, passes
        self.params_changed(None)


