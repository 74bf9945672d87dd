package com.example; public class DemoApplication {}
