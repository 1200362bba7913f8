/* message-ids.h — the fixed journal MESSAGE_ID of every tickd event type.
 *
 * Generated once with `systemd-id128 new`; never change one, since users
 * filter on them (`journalctl MESSAGE_ID=...`) and packaging/tickd.catalog
 * explains each of them for `journalctl -x`. Plain 32-hex-digit strings, the
 * form journal fields take. */
#ifndef TICKD_MESSAGE_IDS_H
#define TICKD_MESSAGE_IDS_H

#define TICKD_MESSAGE_STARTED         "189e6b65ec264b0fbc1068c9e518ffbb"
#define TICKD_MESSAGE_SUCCEEDED       "267563a279b64b60acf4e23a7d380d6b"
#define TICKD_MESSAGE_FAILED          "2d38e16cfae44037b498efa545ad9dda"
#define TICKD_MESSAGE_TIMED_OUT       "843d8a78b6a14714a00b2582768a2609"
#define TICKD_MESSAGE_SKIPPED         "699e05241da741afabbff07e1ef5ce94"
#define TICKD_MESSAGE_DELAYED         "ec90140cf82a4c4684dd13f743e42791"
#define TICKD_MESSAGE_LOST            "c096d7cf4ab04f2c96e3c7802340a3a1"
#define TICKD_MESSAGE_CONFIG_REJECTED "93892ac47d784121ac7fc88b5084f3ab"
#define TICKD_MESSAGE_BATCH_STUCK     "74ba8f9f7ea545bda40ec34ac3a6ae62"
#define TICKD_MESSAGE_RELOADED        "2a53024ef39c494e8b1b4b4a63072945"
#define TICKD_MESSAGE_DAEMON_STARTED  "62022e3ec70c4be3ac647bb4bc48f9f9"
#define TICKD_MESSAGE_DAEMON_STOPPING "551c431019db42de89530dfbaf6052ff"
#define TICKD_MESSAGE_CANCELLED       "2764989117934936b04da056b739a357"
#define TICKD_MESSAGE_CLOCK_CHANGED   "b11ab7580a4840e7ad217f2ee93b9221"
#define TICKD_MESSAGE_ADOPTED         "981d87e6c9e342e7bb7d3811bfdfd0c3"
#define TICKD_MESSAGE_DROPPED         "afa67f12654d40b2819ebe69a58b9534"

#endif
