"""archivekit: preflight Mattermost bulk import archives."""
